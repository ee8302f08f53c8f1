//! Monitor leases (migrations/*/0015_monitor_lease.sql): which replica checks which monitor.
//!
//! Written through the [`ObservationWriter`], with no event: leases are bookkeeping, not
//! configuration, and must not move the revision. Every statement is one both dialects run;
//! the claim is an atomic conditional upsert (`on conflict … do update … where` the lease has
//! lapsed), so when two replicas race for a monitor PostgreSQL re-checks the condition against
//! the winner's row and the loser gets nothing back.

use sqlx::Row;

use crate::domain::Timestamp;
use crate::store::StoreError;
use crate::store::query::Sql;
use crate::store::sql::{ObservationWriter, Reader};

type Result<T> = std::result::Result<T, StoreError>;

/// How many of `monitors` one of `replicas` live schedulers should hold: an even split, rounded
/// up so that the shares always cover every monitor.
pub fn fair_share(monitors: usize, replicas: usize) -> usize {
    monitors.div_ceil(replicas.max(1))
}

fn ids_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<i64>> {
    Ok(rows
        .iter()
        .map(|r| r.try_get("monitor_id"))
        .collect::<std::result::Result<_, _>>()?)
}

impl ObservationWriter {
    /// One lease round for `holder`, which wants to check `wanted` (the active monitors it
    /// knows): announces `holder` as a live scheduler until `until`, lets go of its leases on
    /// monitors no longer wanted, renews the rest until `until`, gives back what exceeds its
    /// [`fair_share`] among the live schedulers (so a replica that starts later gets some), and
    /// claims lapsed or unleased monitors up to that share. Returns the monitors `holder` holds
    /// until `until`, in id order.
    pub async fn claim_monitor_leases(
        &mut self,
        holder: &str,
        wanted: &[i64],
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<i64>> {
        let mut wanted = wanted.to_vec();
        wanted.sort_unstable();
        wanted.dedup();

        sqlx::query(
            "insert into monitor_lease_holder (holder, expires_at) values ($1, $2) \
             on conflict (holder) do update set expires_at = excluded.expires_at",
        )
        .bind(holder.to_string())
        .bind(until.millis())
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("delete from monitor_lease_holder where expires_at <= $1")
            .bind(now.millis())
            .execute(&mut *self.tx)
            .await?;
        let replicas: i64 =
            sqlx::query_scalar("select count(*) from monitor_lease_holder where expires_at > $1")
                .bind(now.millis())
                .fetch_one(&mut *self.tx)
                .await?;

        // Monitors no longer wanted (paused, deleted) are let go at once.
        let mut sql = Sql::new("delete from monitor_lease where holder = ");
        sql.text(holder);
        if !wanted.is_empty() {
            sql.push(" and monitor_id not in ");
            sql.id_list(&wanted);
        }
        sql.query().execute(&mut *self.tx).await?;
        if wanted.is_empty() {
            return Ok(Vec::new());
        }

        // Renew. A lease another replica took over after it lapsed is not `holder`'s any more.
        let rows = sqlx::query(
            "update monitor_lease set expires_at = $2 where holder = $1 returning monitor_id",
        )
        .bind(holder.to_string())
        .bind(until.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        let mut held = ids_of(&rows)?;
        held.sort_unstable();

        let share = fair_share(wanted.len(), usize::try_from(replicas).unwrap_or(1));
        if held.len() > share {
            let excess = held.split_off(share);
            let mut sql = Sql::new("delete from monitor_lease where holder = ");
            sql.text(holder).push(" and monitor_id in ");
            sql.id_list(&excess);
            sql.query().execute(&mut *self.tx).await?;
            return Ok(held);
        }
        let room = share - held.len();
        if room == 0 {
            return Ok(held);
        }

        let mut sql = Sql::new(
            "select m.monitor_id from monitor m left join monitor_lease l on l.monitor_id = m.monitor_id \
             where (l.monitor_id is null or l.expires_at <= ",
        );
        sql.int(now.millis()).push(") and m.monitor_id in ");
        sql.id_list(&wanted);
        sql.push(" order by m.monitor_id limit ")
            .int(i64::try_from(room).unwrap_or(i64::MAX));
        let free = ids_of(&sql.query().fetch_all(&mut *self.tx).await?)?;
        if free.is_empty() {
            return Ok(held);
        }
        // Rows taken in id order, so two replicas claiming overlapping sets lock them in the
        // same order.
        let mut sql = Sql::new(
            "insert into monitor_lease (monitor_id, holder, expires_at) select monitor_id, ",
        );
        sql.text(holder)
            .push(", ")
            .int(until.millis())
            .push(" from monitor where monitor_id in ");
        sql.id_list(&free);
        sql.push(
            " order by monitor_id on conflict (monitor_id) do update \
             set holder = excluded.holder, expires_at = excluded.expires_at \
             where monitor_lease.expires_at <= ",
        )
        .int(now.millis())
        .push(" returning monitor_id");
        held.extend(ids_of(&sql.query().fetch_all(&mut *self.tx).await?)?);
        held.sort_unstable();
        Ok(held)
    }

    /// Lets go of every lease `holder` has, and of its place among the live schedulers, so
    /// other replicas take its monitors over at their next round (clean shutdown).
    pub async fn release_monitor_leases(&mut self, holder: &str) -> Result<u64> {
        let released = sqlx::query("delete from monitor_lease where holder = $1")
            .bind(holder.to_string())
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        sqlx::query("delete from monitor_lease_holder where holder = $1")
            .bind(holder.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(released)
    }

    /// Forgets every lease and holder: on SQLite, where one process owns the file, whatever
    /// is there was left by a process that is gone.
    pub async fn reset_monitor_leases(&mut self) -> Result<()> {
        sqlx::query("delete from monitor_lease")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("delete from monitor_lease_holder")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

impl Reader {
    /// The leases that have not lapsed at `now`: (monitor id, holder), in id order.
    pub async fn monitor_leases(&mut self, now: Timestamp) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "select monitor_id, holder from monitor_lease where expires_at > $1 order by monitor_id",
        )
        .bind(now.millis())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("monitor_id")?, r.try_get("holder")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fair_share;

    #[test]
    fn shares_cover_every_monitor() {
        assert_eq!(fair_share(0, 1), 0);
        assert_eq!(fair_share(5, 1), 5);
        assert_eq!(fair_share(5, 2), 3);
        assert_eq!(fair_share(4, 2), 2);
        assert_eq!(fair_share(1, 3), 1);
        // A count of zero replicas (cannot happen: the caller is one) is taken as one.
        assert_eq!(fair_share(3, 0), 3);
        for monitors in 0..50 {
            for replicas in 1..8 {
                assert!(fair_share(monitors, replicas) * replicas >= monitors);
            }
        }
    }
}
