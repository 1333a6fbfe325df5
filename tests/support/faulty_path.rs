//! A TCP path of a test's own between a node and a server it needs (a database, Redis),
//! with a switch: open, cut (nothing listens, so connections are refused, and the open ones
//! are closed) or blackholed (connections are accepted and kept, and nothing gets through
//! either way until it opens again, when what was held flows on, as after a healed
//! partition).
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Bytes flow.
    None,
    /// Nothing listens, and every open connection is closed.
    Cut,
    /// Connections are accepted and kept, and nothing is carried either way until the path
    /// opens again, when what was held flows on (as after a healed partition).
    Blackhole,
}

/// A TCP path from a port on 127.0.0.1 to a server, with a switch.
pub struct FaultyPath {
    pub port: u16,
    switch: watch::Sender<Fault>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyPath {
    /// A path to `upstream` (`host:port`), open.
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = tokio::net::lookup_host(upstream)
            .await
            .expect("the upstream's address")
            .next()
            .expect("an address");
        let (listener, port) = bind_below_the_ephemeral_range().await;
        let (switch, fault) = watch::channel(Fault::None);
        let task = tokio::spawn(listen(listener, port, upstream, fault));
        FaultyPath { port, switch, task }
    }

    pub fn set(&self, fault: Fault) {
        self.switch.send_replace(fault);
    }
}

impl Drop for FaultyPath {
    fn drop(&mut self) {
        // A cut ends every connection's task as well.
        self.set(Fault::Cut);
        self.task.abort();
    }
}

async fn listen(
    first: TcpListener,
    port: u16,
    upstream: SocketAddr,
    mut fault: watch::Receiver<Fault>,
) {
    let mut listener = Some(first);
    loop {
        if listener.is_none() {
            if fault.wait_for(|f| *f != Fault::Cut).await.is_err() {
                return;
            }
            listener = Some(bind_again(port).await);
        }
        let Some(open) = listener.as_ref() else {
            continue;
        };
        let for_connection = fault.clone();
        let cut = tokio::select! {
            accepted = open.accept() => {
                if let Ok((socket, _)) = accepted {
                    tokio::spawn(carry(socket, upstream, for_connection));
                }
                false
            }
            _ = fault.wait_for(|f| *f == Fault::Cut) => true,
        };
        if cut {
            listener = None;
        }
    }
}

/// A port below Linux's ephemeral range (32768 and up by default), so that while the path is
/// cut no outgoing connection of this machine can be given it and keep it from being bound
/// again.
async fn bind_below_the_ephemeral_range() -> (TcpListener, u16) {
    // Spread by time and process, then walked: tests running at once start apart.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id();
    for step in 0..2000u32 {
        let port = 20_000 + ((seed.wrapping_add(step.wrapping_mul(7919))) % 12_000) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return (listener, port);
        }
    }
    panic!("no free port between 20000 and 32000");
}

/// The same port again once the cut ends (nothing else takes it in the meantime: it is
/// outside the range the kernel hands out, `bind_below_the_ephemeral_range`).
async fn bind_again(port: u16) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot listen on port {port} again");
}

async fn carry(client: TcpStream, upstream: SocketAddr, mut fault: watch::Receiver<Fault>) {
    // A connection made during a blackhole waits, as a SYN nobody answers would.
    if fault.wait_for(|f| *f != Fault::Blackhole).await.is_err() || *fault.borrow() == Fault::Cut {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Either direction ending (a close, or a cut) ends both: the sockets drop together.
    tokio::select! {
        _ = pump(client_read, server_write, fault.clone()) => {}
        _ = pump(server_read, client_write, fault) => {}
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut fault: watch::Receiver<Fault>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        if fault.wait_for(|f| *f != Fault::Blackhole).await.is_err()
            || *fault.borrow() == Fault::Cut
        {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = fault.wait_for(|f| *f == Fault::Cut) => return,
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Read just as a blackhole began: held until it ends.
        if fault.wait_for(|f| *f != Fault::Blackhole).await.is_err()
            || *fault.borrow() == Fault::Cut
        {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// The server's `host:port` in a test database URL (or a Redis URL).
pub fn server_address(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a database URL");
    let host = parsed.host_str().expect("a host");
    let port = parsed.port().expect("a port");
    format!("{host}:{port}")
}

/// The same database URL, through `port` on 127.0.0.1.
pub fn through(url: &str, port: u16) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a database URL");
    parsed
        .set_ip_host("127.0.0.1".parse().expect("an address"))
        .expect("a host");
    parsed.set_port(Some(port)).expect("a port");
    parsed.to_string()
}
