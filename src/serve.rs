//! Serving a router: one single-threaded runtime per core, each connection kept on one of them.
//!
//! A request through the bridge touches two sockets (the client's and the upstream's). On a
//! work-stealing runtime the tasks behind them land on different threads and every hop between
//! them is a futex wake-up and a context switch, which on a small box costs more than the
//! translation itself. Here one acceptor hands each new connection to the thread with the fewest
//! open connections, which keeps it, its handlers and (with [`ThreadClient`]) its upstream
//! connections to itself. (`SO_REUSEPORT` would spread connections without the hand-over, but
//! would also let a second server on the same port start silently instead of failing.)
//!
//! Connections get a header read timeout (a slow-loris client cannot hold one open by trickling
//! header bytes; an idle keep-alive connection is closed after the same time), and shutdown is
//! graceful: stop accepting, let in-flight requests finish for up to `drain`, then close.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long a client may take to send a request's headers, and how long an idle keep-alive
/// connection is kept (hyper times both with one timer). Longer than the 90 s reqwest (so
/// Codex) keeps an idle connection: the client then always lets go first, and never sends a
/// request on a connection the server is closing at that moment. A loopback server can afford
/// that against slow-loris clients.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(100);

/// Most accept loops (threads) a server runs, whatever the core count: a local router is not a
/// web server, and each loop keeps its own upstream connections.
const MAX_WORKERS: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long in-flight requests may run on after the shutdown signal.
    pub drain: Duration,
    /// See [`HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// Accept loops, one per thread (the calling task runs the first).
    pub workers: usize,
}

/// How long in-flight requests (and streams) may run on after a shutdown signal.
pub const DRAIN: Duration = Duration::from_secs(10);

impl ServeOptions {
    /// [`DRAIN`], the given header timeout, one loop per available core (at most
    /// [`MAX_WORKERS`]).
    pub fn new(header_timeout: Duration) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ServeOptions {
            drain: DRAIN,
            header_timeout,
            workers: cores.clamp(1, MAX_WORKERS),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains. Accepts in the calling
/// task and hands each connection to the loop (this one, or one of `workers - 1` threads with
/// their own single-threaded runtimes) that has the fewest open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    opts: ServeOptions,
) -> std::io::Result<()> {
    let mut here = Loop::new(opts);
    let mut others = Vec::new();
    let mut finished = Vec::new();
    for i in 1..opts.workers.max(1) {
        let (tx, rx) = mpsc::unbounded_channel::<std::net::TcpStream>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let worker = Loop::new(opts);
        others.push((tx, worker.open.clone()));
        let app = app.clone();
        std::thread::Builder::new()
            .name(format!("aimux-worker-{i}"))
            .spawn(move || {
                crate::logbuf::batch_this_thread();
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .on_thread_park(crate::logbuf::flush)
                    .build()
                    .and_then(|rt| {
                        let result = rt.block_on(worker.run(rx, app));
                        // Dropping a runtime waits without limit for its blocking tasks (a
                        // DNS lookup that hangs, say): give them a moment, no more.
                        rt.shutdown_timeout(BLOCKING_GRACE);
                        result
                    });
                crate::logbuf::flush();
                let _ = done_tx.send(result);
            })?;
        finished.push(done_rx);
    }
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Without TCP_NODELAY every small SSE write waits for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let least = others
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, open))| open.load(Ordering::Relaxed))
            .filter(|(_, (_, open))| {
                open.load(Ordering::Relaxed) < here.open.load(Ordering::Relaxed)
            })
            .map(|(i, _)| i);
        let Some(i) = least else {
            here.serve(tcp, app.clone());
            continue;
        };
        // The connection moves to the worker's runtime as a plain socket.
        let std = match tcp.into_std() {
            Ok(std) => std,
            Err(e) => {
                tracing::warn!("cannot hand a connection to a server thread: {e}");
                continue;
            }
        };
        let (tx, open) = &others[i];
        open.fetch_add(1, Ordering::Relaxed);
        if let Err(returned) = tx.send(std) {
            // That worker's thread is gone (it cannot normally end before we do): serve the
            // connection here and stop choosing it.
            tracing::warn!("a server thread stopped; serving its share on the others");
            others.swap_remove(i);
            if let Ok(tcp) = TcpStream::from_std(returned.0) {
                here.serve(tcp, app.clone());
            }
        }
    }
    drop(listener);
    drop(others);
    here.drain().await;
    for worker in finished {
        // Each worker drains for at most `drain` too. One whose thread died without a word (or
        // that is somehow stuck) has nothing left to give.
        match tokio::time::timeout(opts.drain + BLOCKING_GRACE * 2, worker).await {
            Ok(Ok(Err(e))) => return Err(e),
            Ok(_) => {}
            Err(_) => tracing::warn!("a server thread did not stop; leaving it"),
        }
    }
    Ok(())
}

/// How long a stopping runtime waits for its blocking tasks.
pub const BLOCKING_GRACE: Duration = Duration::from_millis(500);

/// One thread's connections: its HTTP settings, graceful-shutdown watcher and open count.
struct Loop {
    http: hyper::server::conn::http1::Builder,
    graceful: GracefulShutdown,
    /// The connections' tasks, so that those still running when the drain ends are dropped
    /// (and their usage recorded) before `serve` returns, not whenever the runtime goes.
    tasks: JoinSet<()>,
    open: Arc<AtomicUsize>,
    drain: Duration,
}

impl Loop {
    fn new(opts: ServeOptions) -> Self {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(opts.header_timeout)
            .keep_alive(true);
        Loop {
            http,
            graceful: GracefulShutdown::new(),
            tasks: JoinSet::new(),
            open: Arc::new(AtomicUsize::new(0)),
            drain: opts.drain,
        }
    }

    /// A worker thread: serves what the acceptor hands over until it stops, then drains.
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<std::net::TcpStream>,
        app: Router,
    ) -> std::io::Result<()> {
        while let Some(std) = rx.recv().await {
            match TcpStream::from_std(std) {
                Ok(tcp) => {
                    // Counted by the acceptor already.
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    self.serve(tcp, app.clone());
                }
                Err(e) => {
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    tracing::warn!("cannot take over a connection: {e}");
                }
            }
        }
        self.drain().await;
        Ok(())
    }

    /// Serves one connection on this thread's runtime.
    fn serve(&mut self, tcp: TcpStream, app: Router) {
        // Forget the connections that have ended.
        while self.tasks.try_join_next().is_some() {}
        let conn = self
            .http
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app));
        let conn = self.graceful.watch(conn);
        let open = Open::count(&self.open);
        self.tasks.spawn(async move {
            let _ = conn.await;
            drop(open);
        });
    }

    /// Lets in-flight requests finish for up to `drain`, then closes what is left.
    async fn drain(mut self) {
        if tokio::time::timeout(self.drain, self.graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "in-flight requests did not finish within {:?}; closing them",
                self.drain
            );
        }
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// One open connection in a loop's count, for as long as it lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn count(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        Open(open.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// A `reqwest::Client` per thread, so that a worker's upstream connections (and the tasks hyper
/// runs for them) stay on that worker's runtime. Cheap to call per request (a clone of an `Arc`).
pub struct ThreadClient {
    id: u64,
    make: Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>,
    /// Built up front, so configuration errors surface at start; also the fallback should a
    /// later build fail.
    first: reqwest::Client,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// (ThreadClient id, this thread's client). A handful of entries per process.
    static CLIENTS: RefCell<Vec<(u64, reqwest::Client)>> = const { RefCell::new(Vec::new()) };
}

impl ThreadClient {
    pub fn new(
        make: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> reqwest::Result<Self> {
        let first = make().build()?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        CLIENTS.with(|c| c.borrow_mut().push((id, first.clone())));
        Ok(ThreadClient {
            id,
            make: Arc::new(make),
            first,
        })
    }

    /// This thread's client.
    pub fn get(&self) -> reqwest::Client {
        CLIENTS.with(|c| {
            let mut clients = c.borrow_mut();
            if let Some((_, client)) = clients.iter().find(|(id, _)| *id == self.id) {
                return client.clone();
            }
            let client = (self.make)().build().unwrap_or_else(|_| self.first.clone());
            clients.push((self.id, client.clone()));
            client
        })
    }
}

impl std::fmt::Debug for ThreadClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadClient")
            .field("id", &self.id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections are spread over the loops (each request answers with its thread's name), every
    /// request is served, and shutdown ends `serve`.
    #[tokio::test(flavor = "current_thread")]
    async fn connections_spread_over_the_loops_and_shutdown_ends_serve() {
        use std::io::{Read, Write};
        let app = Router::new().route(
            "/",
            axum::routing::get(|| async {
                std::thread::current()
                    .name()
                    .unwrap_or("unnamed")
                    .to_owned()
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let opts = ServeOptions {
            drain: Duration::from_secs(5),
            header_timeout: Duration::from_secs(5),
            workers: 3,
        };
        let server = tokio::spawn(serve(
            listener,
            app,
            async move {
                let _ = stop_rx.await;
            },
            opts,
        ));
        // Six kept-alive clients, three requests each, on plain threads.
        let threads = tokio::task::spawn_blocking(move || {
            let clients: Vec<_> = (0..6)
                .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
                .collect();
            let mut names = Vec::new();
            for _ in 0..3 {
                for mut c in &clients {
                    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                        .expect("send");
                    let mut buf = [0u8; 1024];
                    let n = c.read(&mut buf).expect("read");
                    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
                    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                    names.push(answer.rsplit("\r\n").next().unwrap_or("").to_owned());
                }
            }
            names
        })
        .await
        .expect("clients");
        assert_eq!(threads.len(), 18);
        let distinct: std::collections::BTreeSet<_> = threads.iter().collect();
        assert_eq!(distinct.len(), 3, "every loop serves a share: {distinct:?}");
        stop_tx.send(()).expect("stop");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve ends after the shutdown signal")
            .expect("join")
            .expect("serve");
    }

    fn client() -> ThreadClient {
        ThreadClient::new(reqwest::Client::builder).expect("client")
    }

    #[test]
    fn one_client_per_thread_and_owner() {
        let (a, b) = (client(), client());
        assert_ne!(a.id, b.id);
        // Same thread: the client built by `new` is reused, no new pool per call.
        let here = CLIENTS.with(|c| c.borrow().len());
        for _ in 0..3 {
            a.get();
            b.get();
        }
        assert_eq!(CLIENTS.with(|c| c.borrow().len()), here);
        // Another thread builds its own.
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(CLIENTS.with(|c| c.borrow().len()), 0);
                a.get();
                a.get();
                b.get();
                assert_eq!(CLIENTS.with(|c| c.borrow().len()), 2);
            });
        });
    }
}
