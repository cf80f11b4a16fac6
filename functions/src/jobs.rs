//! Scheduled job handlers, by job name. The same table serves the local scheduler and the job
//! Lambdas (which receive the job name and scheduled time from EventBridge Scheduler). Jobs join
//! as their functions land; a job named in `schedules.json` without a handler is not scheduled
//! locally and is refused by the Lambda.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use shared::time::Timestamp;

use crate::services::Services;

/// A job handler: the services and the scheduled time of the firing.
pub type Handler = Arc<
    dyn Fn(Arc<Services>, Timestamp) -> Pin<Box<dyn Future<Output = Result<(), shared::Error>> + Send>> + Send + Sync,
>;

/// The job handlers of this build.
pub fn handlers() -> HashMap<String, Handler> {
    HashMap::new()
}
