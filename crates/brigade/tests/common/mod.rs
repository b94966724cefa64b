//! Helpers shared by the synchronization tests, which run on the virtual
//! clock.

use std::time::Duration;

use brigade::time::{sleep, timeout};

/// Lets every ready task run until all of them wait (the virtual clock
/// only moves once the loop is idle).
pub async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

/// Awaits `future`, failing the test instead of hanging if it never ends
/// (on the virtual clock the minute passes at once).
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(60), future)
        .await
        .expect("the operation never completed: something was lost")
}
