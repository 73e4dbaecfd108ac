//! Shutdown signals.

use std::future::Future;

/// Starts listening for SIGINT and SIGTERM (Ctrl-C elsewhere) right away, and returns a future
/// that resolves when one arrives. Call it before announcing readiness: a signal sent the moment
/// a supervisor sees the server-info file must not fall between "ready" and "listening".
pub fn shutdown() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listeners = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match listeners {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
