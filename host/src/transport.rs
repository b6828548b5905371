//! Where the component's HTTP requests finally go, behind the [`Gateway`]:
//! the network ([`crate::live`]), or a test double (a fake tenant, a replay).
//!
//! [`Gateway`]: crate::gateway::Gateway

use crate::runtime::{Request, Response, TransportError};
use std::sync::{Arc, Mutex};

/// Performs (or imitates) one HTTP exchange.
pub trait Transport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;
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
}

/// A transport chosen at run time.
impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        (**self).send(request)
    }
}
