//! Limits on what one client may hold of the listener: the accept loop
//! applies the connection and header ones, the handler the body ones.

use std::time::Duration;

/// How long a body waits for its share of [`Limits::max_buffered`].
pub const BUDGET_WAIT: Duration = Duration::from_secs(5);

/// Limits on what one client may hold of the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a complete request head, from the first
    /// byte or from the end of its previous request. Also closes idle
    /// keep-alive connections.
    pub header_timeout: Duration,
    /// Time a client has to send a complete body once its head arrived.
    /// watsonx sends a recording in one burst; 60 s covers a 50 MiB body at ~7 Mbit/s.
    pub body_timeout: Duration,
    /// Connections served at once; more get an immediate 503.
    pub max_connections: usize,
    /// Bytes of request bodies held in memory across all requests at once.
    /// A body that cannot get its share within [`BUDGET_WAIT`] gets a 503.
    pub max_buffered: usize,
    /// Largest request head (request line plus headers), in bytes.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_buffered: 256 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;
    use std::time::Duration;

    /// The defaults `earshot serve --help` and docs/cli.md promise.
    #[test]
    fn default_limits_are_the_documented_ones() {
        let limits = Limits::default();
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.body_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_connections, 256);
        assert_eq!(limits.max_buffered, 268_435_456);
        assert_eq!(limits.max_header_bytes, 65_536);
        assert_eq!(limits.max_headers, 100);
    }
}
