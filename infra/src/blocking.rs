//! The hashing pool of the functions: password work (Argon2id, tens of milliseconds of CPU and
//! 19 MiB each) on tokio's blocking pool, so it never holds an async worker thread, and at most
//! one job per core at a time, so a burst of sign-ins neither floods the blocking pool with
//! threads nor the process with memory.

use std::sync::Arc;

use async_trait::async_trait;
use auth::passwords::{HashingPool, Job};
use kernel::Error;
use tokio::sync::Semaphore;

pub struct BlockingPool {
    permits: Arc<Semaphore>,
}

impl BlockingPool {
    /// At most `parallel` jobs at once (at least one).
    pub fn new(parallel: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
        }
    }

    /// One job per core the process may use.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
    }
}

#[async_trait]
impl HashingPool for BlockingPool {
    async fn run(&self, job: Job) -> Result<(), Error> {
        // The permit moves into the job: a caller that goes away (a dropped future) does not
        // free it while the hashing still runs.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(format!("hashing pool: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| Error::Internal(format!("password work: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // The current-thread runtime runs every async step on the test's own thread.
    #[tokio::test]
    async fn jobs_run_off_the_async_thread() {
        let pool = BlockingPool::new(2);
        let ran_on = Arc::new(Mutex::new(None));
        let seen = ran_on.clone();
        pool.run(Box::new(move || {
            *seen.lock().expect("lock") = Some(std::thread::current().id());
        }))
        .await
        .expect("ran");
        let ran_on = ran_on.lock().expect("lock").expect("the job ran");
        assert_ne!(ran_on, std::thread::current().id());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_the_limit_runs_at_once() {
        let pool = Arc::new(BlockingPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(Box::new(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    }))
                    .await
                })
            })
            .collect();
        for job in jobs {
            job.await.expect("task").expect("ran");
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error() {
        let pool = BlockingPool::new(1);
        let panicked = pool.run(Box::new(|| panic!("boom"))).await;
        assert!(
            matches!(&panicked, Err(Error::Internal(m))
                if m.starts_with("password work: ") && m.contains("panicked")),
            "{panicked:?}"
        );
        assert!(
            pool.run(Box::new(|| ())).await.is_ok(),
            "the permit came back"
        );
    }
}
