//! Giving memory back after big requests.
//!
//! mimalloc keeps a thread's freed pages for reuse and returns them to the system only in the
//! course of later allocations. A server that goes quiet after a big request (a 2 MB Codex
//! history needs several copies of itself on the way through) would hold on to that memory until
//! its next request: about 20 MB more per process. So once a big request's response has been
//! sent, its thread collects its free memory a moment later.

use std::cell::Cell;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http_body_util::BodyExt;

/// A request body at least this large schedules a collection.
pub const BIG_BODY: usize = 1 << 20;

/// How long after a big response its thread collects: time for the memory to be freed, and
/// for a client's next request (Codex sends one after every tool call) to reuse it instead.
const AFTER: Duration = Duration::from_secs(2);

thread_local! {
    /// Whether this thread has a collection scheduled.
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// `response` to a request whose body was `len` bytes: after a big one, once the response has
/// been sent (or dropped), the thread returns its free memory to the system.
pub fn release_after(len: usize, response: Response) -> Response {
    if len < BIG_BODY {
        return response;
    }
    let sent = Sent;
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &sent;
            frame
        }))
    })
}

/// Dropped with a big request's response body: schedules the collection.
struct Sent;

impl Drop for Sent {
    fn drop(&mut self) {
        // At most one pending collection per thread. The servers run one single-threaded
        // runtime per thread, so the task runs on the thread whose heap held the request.
        if SCHEDULED.replace(true) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            SCHEDULED.set(false);
            return;
        };
        runtime.spawn(async {
            tokio::time::sleep(AFTER).await;
            SCHEDULED.set(false);
            collect();
        });
    }
}

/// Returns this thread's free memory (and the process's abandoned pages) to the system.
fn collect() {
    // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own bookkeeping.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big request's response body comes through unchanged; once it is gone, one collection
    /// is scheduled on this thread and runs [`AFTER`] later. A small request's schedules none.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_big_response_schedules_one_collection_once_sent() {
        let small = release_after(BIG_BODY - 1, Response::new(Body::from("small")));
        let bytes = small.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"small");
        assert!(!SCHEDULED.get());

        let big = release_after(BIG_BODY, Response::new(Body::from("big")));
        let also_big = release_after(BIG_BODY, Response::new(Body::from("big too")));
        assert!(!SCHEDULED.get(), "nothing before the body is sent");
        let bytes = big.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"big");
        assert!(SCHEDULED.get());
        drop(also_big);
        tokio::time::sleep(AFTER + Duration::from_millis(1)).await;
        assert!(!SCHEDULED.get(), "collected");
    }
}
