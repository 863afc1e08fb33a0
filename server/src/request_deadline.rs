//! A deadline for reading a whole request: the head must arrive within
//! `--request-timeout-secs` (the HTTP server's request timeout) and so must
//! the body, counted from when the head arrived. A client trickling bytes
//! gets 408 and the connection is closed, instead of holding a worker.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures::{Future, Stream};
use tokio::time::Sleep;

use crate::state::AppState;

/// A request body that fails with `TimedOut` once its deadline passes.
struct DeadlineBody {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

/// Whether a body read failed because its deadline passed.
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Middleware: puts the deadline on the request's body.
pub async fn limit_body_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let deadline = Box::pin(tokio::time::sleep(state.limits.request_timeout()));
        let inner = req.take_payload();
        req.set_payload(Payload::Stream {
            payload: Box::pin(DeadlineBody { inner, deadline }),
        });
    }
    next.call(req).await
}
