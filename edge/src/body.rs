//! Reading a request body without trusting its sender: at most the edge's limit is read,
//! whether or not `Content-Length` was declared (a chunked body declares nothing).

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;

/// A body read up to a limit.
#[derive(Debug, PartialEq, Eq)]
pub enum Bounded {
    /// The whole body, at most the limit.
    Complete(Vec<u8>),
    /// More than the limit arrived; reading stopped there and what was read is dropped.
    Oversize,
}

/// Reads `stream` until it ends or more than `limit` bytes have arrived, whichever is first:
/// the memory held is at most the limit plus one chunk, and the rest is never pulled.
pub async fn read_bounded<S, E>(mut stream: S, limit: usize) -> Result<Bounded, E>
where
    S: Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    let mut body = Vec::new();
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(Bounded::Oversize);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bounded::Complete(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Poll};

    /// A body stream that counts the chunks it was asked for; endless when `chunks` is `None`.
    struct Chunks {
        size: usize,
        chunks: Option<usize>,
        pulled: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl Stream for Chunks {
        type Item = Result<Vec<u8>, String>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            let pulled = self.pulled.get();
            if self.chunks.is_some_and(|n| pulled >= n) {
                return Poll::Ready(None);
            }
            self.pulled.set(pulled + 1);
            Poll::Ready(Some(Ok(vec![b'a'; self.size])))
        }
    }

    fn read(size: usize, chunks: Option<usize>, limit: usize) -> (Bounded, usize) {
        let pulled = std::rc::Rc::new(std::cell::Cell::new(0));
        let stream = Chunks {
            size,
            chunks,
            pulled: pulled.clone(),
        };
        (
            ready(read_bounded(stream, limit)).expect("no stream error"),
            pulled.get(),
        )
    }

    /// The test streams never wait, so one poll finishes the read.
    fn ready<F: std::future::Future>(f: F) -> F::Output {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the stream is always ready"),
        }
    }

    #[test]
    fn an_endless_chunked_body_is_read_only_past_the_limit() {
        let (result, pulled) = read(16 * 1024, None, 1024 * 1024);
        assert_eq!(result, Bounded::Oversize);
        assert_eq!(
            pulled, 65,
            "64 chunks fill the limit, the 65th goes over it"
        );
    }

    #[test]
    fn a_body_up_to_the_limit_is_read_whole() {
        let (result, _) = read(1000, Some(3), 3000);
        assert_eq!(result, Bounded::Complete(vec![b'a'; 3000]));
        let (result, _) = read(1000, Some(4), 3000);
        assert_eq!(result, Bounded::Oversize);
        let (result, pulled) = read(1000, Some(0), 3000);
        assert_eq!((result, pulled), (Bounded::Complete(Vec::new()), 0));
    }

    #[test]
    fn a_stream_error_is_passed_on() {
        struct Failing;
        impl Stream for Failing {
            type Item = Result<Vec<u8>, String>;
            fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                Poll::Ready(Some(Err("connection reset".into())))
            }
        }
        assert_eq!(
            ready(read_bounded(Failing, 10)),
            Err("connection reset".to_string())
        );
    }
}
