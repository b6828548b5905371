//! Where the component's HTTP requests finally go, behind the [`Gateway`]:
//! the network ([`crate::live`]), or a test double (a fake tenant, a replay).
//!
//! [`Gateway`]: crate::gateway::Gateway

use crate::bindings::{Request, Response, TransportError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Performs (or imitates) one HTTP exchange.
pub trait Transport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;

    /// The same, done within `limit` (what is left of the call's deadline)
    /// or given up as a [`TransportError::Timeout`]. A transport that waits
    /// on something (the network) cuts its own timeouts to it; the default
    /// is for those that answer at once.
    fn send_within(
        &mut self,
        request: &Request,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        let _ = limit;
        self.send(request)
    }
}

/// A closure as a transport, for tests that answer according to the request.
pub struct FnTransport<F>(pub F);

impl<F> Transport for FnTransport<F>
where
    F: FnMut(&Request) -> Result<Response, TransportError>,
{
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        (self.0)(request)
    }
}

/// A transport shared with the test or server that also inspects it.
impl<B: Transport> Transport for Arc<Mutex<B>> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        // A poisoned lock means another thread panicked mid-request: keep serving.
        let mut transport = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        transport.send(request)
    }

    fn send_within(
        &mut self,
        request: &Request,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        let mut transport = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        transport.send_within(request, limit)
    }
}

/// A transport chosen at run time.
impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        (**self).send(request)
    }

    fn send_within(
        &mut self,
        request: &Request,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        (**self).send_within(request, limit)
    }
}
