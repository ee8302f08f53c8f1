//! Monitor leases: how replicas with the scheduler on share the checking (DESIGN.md,
//! "Scaling out"). A replica checks only the monitors whose lease it holds; leases are
//! renewed by `workers::scheduler` well before they lapse, released on clean shutdown, and a
//! dead replica's lapse so that the others take its monitors over. Bookkeeping through the
//! store's `ObservationWriter`: no event, the revision does not move.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::service::{Result, Service};
use crate::store::Backend;

impl Service {
    /// One lease round for `holder` over `wanted` (the active monitors it knows), each lease
    /// running for `lease` from now. Returns the monitors `holder` holds, in id order.
    pub async fn claim_monitor_leases(
        &self,
        holder: &str,
        wanted: &[i64],
        lease: Duration,
    ) -> Result<Vec<i64>> {
        let now = Timestamp::now();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let until = Timestamp(now.millis().saturating_add(lease_ms));
        let mut tx = self.store().record_observations().await?;
        let held = tx.claim_monitor_leases(holder, wanted, now, until).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Lets go of all of `holder`'s leases at once (clean shutdown).
    pub async fn release_monitor_leases(&self, holder: &str) -> Result<u64> {
        let mut tx = self.store().record_observations().await?;
        let n = tx.release_monitor_leases(holder).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// At start-up on SQLite (one process owns the file), forgets leases a previous process
    /// left behind, so a restart after a crash does not wait for them to lapse. Nothing to do
    /// on PostgreSQL, where other replicas' leases are live.
    pub async fn reset_stale_monitor_leases(&self) -> Result<()> {
        if self.store().backend() != Backend::Sqlite {
            return Ok(());
        }
        let mut tx = self.store().record_observations().await?;
        tx.reset_monitor_leases().await?;
        tx.commit().await?;
        Ok(())
    }
}
