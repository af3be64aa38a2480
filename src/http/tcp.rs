//! TCP tuning: Nagle's algorithm off for every connection.
//!
//! With Nagle on, a response written in more than one segment waits for the client to
//! acknowledge the first, and clients delay that ACK by up to 40 ms: every such response took
//! 40 ms on a keep-alive connection. `server` now writes each response at once, but large
//! responses still span segments. On Linux an accepted socket inherits TCP_NODELAY from its
//! listening socket, so setting it once on the listener covers every connection.

use std::net::TcpListener;

/// Sets TCP_NODELAY on the listener (inherited by its connections on Linux). Best effort: a
/// failure costs latency, not correctness.
pub fn disable_nagle(listener: &TcpListener) -> bool {
    socket2::SockRef::from(listener)
        .set_tcp_nodelay(true)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn accepted_connections_inherit_nodelay() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(super::disable_nagle(&listener));
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
