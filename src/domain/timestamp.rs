//! Points in time as stored (epoch milliseconds) and as sent (RFC 3339 with milliseconds, UTC).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`, offsets allowed) or a plain date (`2026-01-01`).
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
            return Some(Self((t.unix_timestamp_nanos() / 1_000_000) as i64));
        }
        let date = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"));
        date.ok()
            .map(|d| Self(d.midnight().assume_utc().unix_timestamp() * 1000))
    }

    /// `2026-11-24T18:49:07.357Z`, the form Unleash sends.
    pub fn to_rfc3339(self) -> String {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        t.format(&format).unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid date-time \"{s}\"")))
    }
}

/// In the OpenAPI document (`/api/openapi.json`): what it is serialised as, an RFC 3339 string.
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-01-01T00:00:00.000Z"])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339_with_milliseconds() {
        let t = Timestamp::parse("2026-11-24T18:49:07.357Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-24T18:49:07.357Z");
        assert_eq!(Timestamp::parse("2026-11-24T19:49:07.357+01:00"), Some(t));
    }

    #[test]
    fn accepts_plain_dates_and_rejects_garbage() {
        assert_eq!(Timestamp::parse("1970-01-02"), Some(Timestamp(86_400_000)));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}
