//! Instances of the component, lent one call at a time. wasmtime calls are
//! synchronous: each runs on tokio's blocking threads, and the pool's size
//! bounds how many run at once.

use mde_connector_host::Instance;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub struct Pool {
    permits: Semaphore,
    idle: Arc<Mutex<Vec<Instance>>>,
}

/// No instance came free within the wait allowed.
#[derive(Debug)]
pub struct Busy;

impl Pool {
    pub fn new(instances: Vec<Instance>) -> Self {
        Pool {
            permits: Semaphore::new(instances.len()),
            idle: Arc::new(Mutex::new(instances)),
        }
    }

    /// Runs `call` on an instance, waiting at most `wait` for one.
    pub async fn run<R: Send + 'static>(
        &self,
        wait: Duration,
        call: impl FnOnce(&mut Instance) -> R + Send + 'static,
    ) -> Result<R, Busy> {
        let permit = tokio::time::timeout(wait, self.permits.acquire())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let idle = self.idle.clone();
        let mut instance = lock(&idle).pop().ok_or(Busy)?;
        // The call runs to its end even if the request that asked for it is
        // gone: the answer still fills the cache, and the instance comes back.
        let outcome = tokio::task::spawn_blocking(move || {
            let outcome = call(&mut instance);
            lock(&idle).push(instance);
            outcome
        })
        .await;
        if outcome.is_err() {
            // A panic in `call` lost that instance: the pool serves with one fewer.
            permit.forget();
        }
        outcome.map_err(|_| Busy)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
