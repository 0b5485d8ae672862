//! The thread environments are spawned from.
//!
//! Spawning an isolated environment blocks for milliseconds (its cgroup,
//! forks, mounts, and std's wait for the runtime's exec), which must not
//! stall an async worker. Nor may it run on tokio's blocking pool: an
//! environment's process asks (PR_SET_PDEATHSIG) to be killed when the
//! *thread* that forked it exits, so that it dies with nimbus, and the pool
//! retires threads that sit idle for ten seconds, which would kill every
//! environment they started. This thread lives as long as its executor.

use std::sync::mpsc;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

pub struct Spawner {
    jobs: mpsc::Sender<Job>,
}

impl Spawner {
    /// Starts the thread; it runs its jobs inside the current tokio
    /// runtime (tokio's child processes need its reaper).
    pub fn start() -> std::io::Result<Spawner> {
        let (tx, rx) = mpsc::channel::<Job>();
        let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        std::thread::Builder::new()
            .name("nimbus-lambda-spawner".into())
            .spawn(move || {
                let _inside = runtime.enter();
                for job in rx {
                    job();
                }
            })?;
        Ok(Spawner { jobs: tx })
    }

    /// Runs `job` on the spawner thread.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(job());
            }))
            .map_err(|_| "the spawner thread has stopped".to_owned())?;
        rx.await.map_err(|_| "the spawner thread died".to_owned())
    }
}
