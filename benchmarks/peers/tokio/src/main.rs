//! The tokio peer of the coio benchmark suite: the workloads of shared BENCHMARKS.md, written
//! the way tokio's own documentation writes them, on a fresh current_thread runtime per
//! workload. Prints one line per workload,
//! `name: <value> <unit> [key=value ...] rss_mb=<VmHWM delta> n=<count>`, and exits non-zero
//! when a workload computes a wrong result.
//!
//!   coio-tokio-peer [--only a,b] [--smoke] [--scale f] [--list]
//!   (--smoke: tiny counts, proves it runs, figures meaningless; --list: the workload names)
//!
//! Kept compatible with Rust 1.63 (Debian's rustc), edition 2021.

use std::future::Future;
use std::net::SocketAddr;
use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

/// What a workload prints before `rss_mb=` and `n=`.
struct Report {
    text: String,
    n: i64,
}

type Outcome = Result<Report, String>;

/// Peak resident set size so far (VmHWM), in KiB.
fn peak_rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmHWM:") {
            let digits = rest.trim().trim_end_matches("kB").trim();
            return digits.parse().unwrap_or(0);
        }
    }
    0
}

fn ns_per_op(start: Instant, ops: i64) -> f64 {
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn check(workload: &str, got: i64, expected: i64) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{}: wrong result {} (expected {})",
            workload, got, expected
        ))
    }
}

/// Runs one workload's top-level future as a task on a fresh single-threaded runtime, as
/// asyncio.Runner and Asio's co_spawn do. (Driving it directly from `block_on` costs an
/// eventfd write and an epoll_wait per wake-up of the top-level future: 3-4x on spawn_await.)
fn run<F: Future<Output = Outcome> + Send + 'static>(workload: F) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build the tokio runtime: {}", e))?;
    runtime.block_on(async move {
        tokio::spawn(workload)
            .await
            .map_err(|e| format!("the workload task failed: {}", e))?
    })
}

/// The trivial task: a coroutine returning its argument.
async fn trivial(i: i64) -> i64 {
    i
}

// await_direct: N times `trivial(i).await`, no task. (The compiler inlines it.)
async fn await_direct(n: i64) -> Outcome {
    let start = Instant::now();
    let mut sum = 0i64;
    for i in 0..n {
        sum += trivial(i).await;
    }
    let ns = ns_per_op(start, n);
    check("await_direct", sum, n * (n - 1) / 2)?;
    Ok(Report {
        text: format!("{:.2} ns/op", ns),
        n,
    })
}

// spawn_await: N times spawn a task from trivial(i) and await its JoinHandle.
async fn spawn_await(n: i64) -> Outcome {
    let start = Instant::now();
    let mut sum = 0i64;
    for i in 0..n {
        sum += tokio::spawn(trivial(i)).await.unwrap();
    }
    let ns = ns_per_op(start, n);
    check("spawn_await", sum, n * (n - 1) / 2)?;
    Ok(Report {
        text: format!("{:.2} ns/op", ns),
        n,
    })
}

/// Yields to the scheduler n times; returns how many yields completed.
async fn yielder(n: i64) -> i64 {
    let mut count = 0;
    for _ in 0..n {
        tokio::task::yield_now().await;
        count += 1;
    }
    count
}

// yield_switch: 2 tasks, each N times yield_now(); ns per switch = elapsed / (2N).
async fn yield_switch(n: i64) -> Outcome {
    let start = Instant::now();
    let a = tokio::spawn(yielder(n));
    let b = tokio::spawn(yielder(n));
    let count = a.await.unwrap() + b.await.unwrap();
    let ns = ns_per_op(start, 2 * n);
    check("yield_switch", count, 2 * n)?;
    Ok(Report {
        text: format!("{:.2} ns/op", ns),
        n: 2 * n,
    })
}

// gather_100k: spawn N trivial tasks, await every JoinHandle in order, sum the results.
async fn gather_100k(n: i64) -> Outcome {
    let start = Instant::now();
    let handles: Vec<JoinHandle<i64>> = (0..n).map(|i| tokio::spawn(trivial(i))).collect();
    let mut values = Vec::with_capacity(handles.len());
    for handle in handles {
        values.push(handle.await.unwrap());
    }
    let ns = ns_per_op(start, n);
    let sum: i64 = values.iter().sum();
    check("gather_100k", sum, n * (n - 1) / 2)?;
    Ok(Report {
        text: format!("{:.2} ns/op", ns),
        n,
    })
}

/// Sleeps `delay`; returns whether it slept at least that long.
async fn sleep_then_check(delay: Duration) -> bool {
    let began = Instant::now();
    tokio::time::sleep(delay).await;
    began.elapsed() >= delay
}

// timers_100k: spawn N tasks, task i sleeps delay_us[i] (the spec's LCG, 0..100 ms).
async fn timers_100k(n: i64) -> Outcome {
    let start = Instant::now();
    let mut x: u64 = 12345;
    let mut handles = Vec::with_capacity(n as usize);
    for _ in 0..n {
        x = (x * 1103515245 + 12345) % (1 << 31);
        handles.push(tokio::spawn(sleep_then_check(Duration::from_micros(
            x % 100001,
        ))));
    }
    let mut completed = 0i64;
    let mut early = 0i64;
    for handle in handles {
        if !handle.await.unwrap() {
            early += 1;
        }
        completed += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    check("timers_100k (completed)", completed, n)?;
    check("timers_100k (finished before their delay)", early, 0)?;
    Ok(Report {
        text: format!(
            "{:.2} ms_over_100 timers_per_s={:.0}",
            elapsed * 1000.0 - 100.0,
            n as f64 / elapsed
        ),
        n,
    })
}

async fn pingpong_producer(tx: mpsc::Sender<i64>, n: i64) {
    for i in 0..n {
        if tx.send(i).await.is_err() {
            return; // the consumer is gone; its sum check reports it
        }
    }
}

// queue_pingpong_<capacity>: a producer sends 0..N-1 into a bounded channel, the consumer sums.
async fn queue_pingpong(n: i64, capacity: usize, name: &'static str) -> Outcome {
    let (tx, mut rx) = mpsc::channel(capacity);
    let start = Instant::now();
    let producer = tokio::spawn(pingpong_producer(tx, n));
    let mut sum = 0i64;
    for _ in 0..n {
        match rx.recv().await {
            Some(v) => sum += v,
            None => break,
        }
    }
    producer.await.unwrap();
    let ns = ns_per_op(start, n);
    check(name, sum, n * (n - 1) / 2)?;
    Ok(Report {
        text: format!("{:.2} ns/op", ns),
        n,
    })
}

async fn queue_pingpong_1(n: i64) -> Outcome {
    queue_pingpong(n, 1, "queue_pingpong_1").await
}

async fn queue_pingpong_1024(n: i64) -> Outcome {
    queue_pingpong(n, 1024, "queue_pingpong_1024").await
}

struct Limiter {
    semaphore: Semaphore,
    active: AtomicUsize,
    peak: AtomicUsize,
}

async fn limited(limiter: Arc<Limiter>) {
    let _permit = limiter.semaphore.acquire().await.unwrap();
    let active = limiter.active.fetch_add(1, Ordering::Relaxed) + 1;
    limiter.peak.fetch_max(active, Ordering::Relaxed);
    tokio::task::yield_now().await;
    limiter.active.fetch_sub(1, Ordering::Relaxed);
}

// semaphore_100k: spawn N tasks; each acquires Semaphore(100), yields once, releases.
async fn semaphore_100k(n: i64) -> Outcome {
    let limiter = Arc::new(Limiter {
        semaphore: Semaphore::new(100),
        active: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    });
    let start = Instant::now();
    let handles: Vec<JoinHandle<()>> = (0..n)
        .map(|_| tokio::spawn(limited(limiter.clone())))
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    let ns = ns_per_op(start, n);
    let peak = limiter.peak.load(Ordering::Relaxed) as i64;
    check("semaphore_100k (max concurrency)", peak, n.min(100))?;
    Ok(Report {
        text: format!("{:.2} ns/op max_concurrency={}", ns, peak),
        n,
    })
}

// --- TCP: server and client on one runtime on 127.0.0.1, TCP_NODELAY on both ends -----------

/// Echoes whatever each read returns until the peer closes.
async fn echo_connection(mut socket: TcpStream) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = socket.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        socket.write_all(&buffer[..n]).await?;
    }
}

async fn echo_server(listener: TcpListener) {
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("echo server: accept failed: {}", e);
                continue;
            }
        };
        if let Err(e) = socket.set_nodelay(true) {
            eprintln!("echo server: TCP_NODELAY: {}", e);
        }
        tokio::spawn(async move {
            if let Err(e) = echo_connection(socket).await {
                eprintln!("echo server: connection failed: {}", e);
            }
        });
    }
}

/// The echo server of one TCP workload; aborted (and its connections dropped) at the end.
struct EchoFixture {
    address: SocketAddr,
    server: JoinHandle<()>,
}

impl EchoFixture {
    async fn start() -> Result<EchoFixture, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {}", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("local_addr: {}", e))?;
        let server = tokio::spawn(echo_server(listener));
        Ok(EchoFixture { address, server })
    }
}

impl Drop for EchoFixture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Bytes echoed and, when recorded, each round trip's latency in µs.
type Echoed = Result<(i64, Vec<f64>), String>;

/// Sends a 64-byte message and reads its whole echo, `rounds` times, checking each echo equals
/// the message. Returns the bytes echoed and, when `record`, each round trip's latency in µs.
async fn echo_client(address: SocketAddr, rounds: i64, record: bool) -> Echoed {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("tcp echo: connect: {}", e))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("tcp echo: TCP_NODELAY: {}", e))?;
    let mut latencies_us = Vec::with_capacity(if record { rounds as usize } else { 0 });
    let mut message = [0u8; 64];
    let mut echo = [0u8; 64];
    let mut echoed = 0i64;
    for r in 0..rounds {
        for (i, byte) in message.iter_mut().enumerate() {
            *byte = (r + i as i64) as u8;
        }
        let sent = Instant::now();
        stream
            .write_all(&message)
            .await
            .map_err(|e| format!("tcp echo: write: {}", e))?;
        stream
            .read_exact(&mut echo)
            .await
            .map_err(|e| format!("tcp echo: read after {} bytes echoed: {}", echoed, e))?;
        if record {
            latencies_us.push(sent.elapsed().as_secs_f64() * 1e6);
        }
        if echo != message {
            return Err(format!(
                "tcp echo: echo of round trip {} differs from the message",
                r
            ));
        }
        echoed += echo.len() as i64;
    }
    Ok((echoed, latencies_us))
}

// tcp_echo_100conn: a warm-up connection of min(1,000, rounds) round trips, then 100 connections
// (10 with --smoke) each 10,000 round trips of 64 bytes. n = total measured round trips.
async fn tcp_echo_100conn(n: i64) -> Outcome {
    let conns: i64 = if n >= 100_000 { 100 } else { 10 };
    let rounds = n / conns;
    let fixture = EchoFixture::start().await?;
    let warm = rounds.min(1000);
    let (warm_echoed, _) = echo_client(fixture.address, warm, false).await?;
    check("tcp_echo_100conn (warm-up bytes)", warm_echoed, 64 * warm)?;
    let start = Instant::now();
    let clients: Vec<JoinHandle<Echoed>> = (0..conns)
        .map(|_| tokio::spawn(echo_client(fixture.address, rounds, false)))
        .collect();
    let mut total = 0i64;
    for client in clients {
        let (echoed, _) = client.await.unwrap()?;
        total += echoed;
    }
    let seconds = start.elapsed().as_secs_f64();
    check(
        "tcp_echo_100conn (bytes echoed)",
        total,
        64 * rounds * conns,
    )?;
    Ok(Report {
        text: format!(
            "{:.2} rt_per_s connections={}",
            (rounds * conns) as f64 / seconds,
            conns
        ),
        n: rounds * conns,
    })
}

// tcp_latency_1conn: one connection, min(1,000, n/10) unmeasured then n measured round trips.
async fn tcp_latency_1conn(n: i64) -> Outcome {
    let fixture = EchoFixture::start().await?;
    let warm = (n / 10).min(1000);
    let (echoed, latencies) = echo_client(fixture.address, warm + n, true).await?;
    check("tcp_latency_1conn (bytes echoed)", echoed, 64 * (warm + n))?;
    let mut measured: Vec<f64> = latencies[warm as usize..].to_vec();
    let mean = measured.iter().sum::<f64>() / n as f64;
    measured.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| measured[(q * (measured.len() - 1) as f64) as usize];
    Ok(Report {
        text: format!("{:.2} us p50={:.2} p99={:.2}", mean, at(0.5), at(0.99)),
        n,
    })
}

struct Workload {
    name: &'static str,
    body: fn(i64) -> Outcome,
    full: i64,
    smoke: i64,
}

fn main() {
    let workloads = [
        Workload {
            name: "await_direct",
            body: |n| run(await_direct(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "spawn_await",
            body: |n| run(spawn_await(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "yield_switch",
            body: |n| run(yield_switch(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "gather_100k",
            body: |n| run(gather_100k(n)),
            full: 100_000,
            smoke: 1_000,
        },
        Workload {
            name: "timers_100k",
            body: |n| run(timers_100k(n)),
            full: 100_000,
            smoke: 100,
        },
        Workload {
            name: "queue_pingpong_1",
            body: |n| run(queue_pingpong_1(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "queue_pingpong_1024",
            body: |n| run(queue_pingpong_1024(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "semaphore_100k",
            body: |n| run(semaphore_100k(n)),
            full: 100_000,
            smoke: 1_000,
        },
        Workload {
            name: "tcp_echo_100conn",
            body: |n| run(tcp_echo_100conn(n)),
            full: 1_000_000,
            smoke: 1_000,
        },
        Workload {
            name: "tcp_latency_1conn",
            body: |n| run(tcp_latency_1conn(n)),
            full: 20_000,
            smoke: 1_000,
        },
    ];

    let mut smoke = false;
    let mut list = false;
    let mut scale = 1.0f64;
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--list" => list = true,
            "--scale" => match args.next().and_then(|v| v.parse::<f64>().ok()) {
                Some(v) => scale = v,
                None => usage(),
            },
            "--only" => match args.next() {
                Some(names) => only.extend(names.split(',').map(str::to_owned)),
                None => usage(),
            },
            _ => usage(),
        }
    }

    if list {
        for w in &workloads {
            println!("{}", w.name);
        }
        return;
    }
    for w in &workloads {
        if !only.is_empty() && !only.iter().any(|name| name == w.name) {
            continue;
        }
        let before = peak_rss_kb();
        let count = if smoke {
            w.smoke
        } else {
            w.smoke.max((w.full as f64 * scale) as i64)
        };
        let outcome = (w.body)(count);
        let after = peak_rss_kb();
        match outcome {
            Ok(report) => println!(
                "{}: {} rss_mb={:.1} n={}",
                w.name,
                report.text,
                (after - before) as f64 / 1024.0,
                report.n
            ),
            Err(message) => {
                eprintln!("{}", message);
                exit(1);
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: coio-tokio-peer [--only a,b] [--smoke] [--scale f] [--list]");
    exit(2);
}
