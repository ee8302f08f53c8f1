-- The record type a dns monitor queries (issue 4: A, AAAA, CNAME, MX, TXT, NS; upper case).
-- A flagwatch extension: Better Stack's monitor API has no such attribute. Null for every
-- other monitor type; rows of dns monitors created before this migration read as A.
alter table monitor add column dns_record_type text;
