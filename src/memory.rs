//! Giving memory back after big requests.
//!
//! mimalloc keeps a thread's freed pages for reuse and returns them to the system only in the
//! course of later allocations. A server that goes quiet after a big request (a 2 MB Codex
//! history needs several copies of itself on the way through) would hold on to that memory,
//! about 20 MB per process, until its next request, which may be hours away. So once a thread
//! has sent no big response for [`QUIET`], it returns its free memory.
//!
//! The price is paid by the next big request after such a pause: its pages are faulted in
//! afresh (a few milliseconds for a 2 MB history), next to a model's seconds.

use std::cell::Cell;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::time::Instant;

/// A request body at least this large counts as big.
pub const BIG_BODY: usize = 1 << 20;

/// How long a thread must go without sending a big response before it collects. Codex's next
/// request usually follows a quick tool call sooner, and finds the memory still there.
const QUIET: Duration = Duration::from_secs(2);

thread_local! {
    /// When this thread last finished sending a big response.
    static LAST_BIG: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether this thread has a collection pending.
    static PENDING: Cell<bool> = const { Cell::new(false) };
}

/// `response` to a request whose body was `len` bytes: after a big one, once the response has
/// been sent (or dropped) and its thread has been quiet for [`QUIET`], the thread returns its
/// free memory to the system. The response is otherwise unchanged (headers, length, frames).
pub fn release_after(len: usize, response: Response) -> Response {
    if len < BIG_BODY {
        return response;
    }
    response.map(|body| Body::new(Held { body, _sent: Sent }))
}

/// A response body that holds a [`Sent`] until it is dropped.
struct Held {
    body: Body,
    _sent: Sent,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Dropped with a big request's response body.
struct Sent;

impl Drop for Sent {
    fn drop(&mut self) {
        // The servers run one single-threaded runtime per thread, so a task spawned here runs on
        // this thread, whose heap held the request. On any other runtime it might not: skip.
        let Ok(runtime) = Handle::try_current() else {
            return;
        };
        if runtime.runtime_flavor() != RuntimeFlavor::CurrentThread {
            return;
        }
        LAST_BIG.set(Some(Instant::now()));
        if PENDING.replace(true) {
            return;
        }
        runtime.spawn(async {
            // Until QUIET has passed since the last big response.
            while let Some(last) = LAST_BIG.get()
                && last.elapsed() < QUIET
            {
                tokio::time::sleep_until(last + QUIET).await;
            }
            PENDING.set(false);
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
    use http_body_util::BodyExt;

    /// A big response comes through unchanged (frames and exact length); once it is gone, one
    /// collection is pending on this thread, and runs when no other big response has ended for
    /// [`QUIET`]. A small response changes nothing.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_collection_follows_the_last_big_response() {
        let small = release_after(BIG_BODY - 1, Response::new(Body::from("small")));
        let bytes = small.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"small");
        assert!(!PENDING.get());

        let big = release_after(BIG_BODY, Response::new(Body::from("big")));
        assert_eq!(http_body::Body::size_hint(big.body()).exact(), Some(3));
        let later = release_after(BIG_BODY, Response::new(Body::from("later")));
        assert!(!PENDING.get(), "nothing before a body is sent");
        let bytes = big.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"big");
        assert!(PENDING.get());

        tokio::time::sleep(QUIET / 2).await;
        drop(later);
        tokio::time::sleep(QUIET * 3 / 4).await;
        assert!(PENDING.get(), "a later big response moves the collection");
        tokio::time::sleep(QUIET / 2).await;
        assert!(!PENDING.get(), "collected once quiet");
    }
}
