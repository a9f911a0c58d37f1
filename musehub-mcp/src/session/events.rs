//! Resumable SSE streams: each stream is a bounded log of events that readers follow by
//! sequence number, so a live reader and a reader resuming with `Last-Event-ID` are the same
//! code (basic/transports.mdx, "Resumability and Redelivery").
//!
//! Event ids are `<stream id>_<sequence>`: the stream id tells the server which stream a
//! `Last-Event-ID` belongs to, as the spec requires ids to be per-stream cursors.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::watch;

/// One stream's event log.
pub struct EventStream {
    id: String,
    capacity: usize,
    state: Mutex<Log>,
    // Carries the next sequence number, so readers wake on every push and on finish.
    tick: watch::Sender<u64>,
    // Only the reader holding the current generation may deliver events; a newer connection
    // (or `disconnect_readers`) retires the older ones, so no event goes out twice live.
    generation: AtomicU64,
}

struct Log {
    next_seq: u64,
    events: VecDeque<(u64, Bytes)>,
    finished: bool,
}

/// What a reader gets from one look at the log.
pub enum Read {
    /// Events after the reader's cursor (possibly none yet).
    Events(Vec<(u64, Bytes)>),
    /// The stream is finished and the reader has seen everything.
    Finished,
    /// Events after the cursor were dropped from the bounded log.
    Lost,
}

impl EventStream {
    /// A new empty stream keeping at most `capacity` events.
    pub fn new(id: String, capacity: usize) -> Self {
        Self {
            id,
            capacity: capacity.max(1),
            state: Mutex::new(Log {
                next_seq: 1,
                events: VecDeque::new(),
                finished: false,
            }),
            tick: watch::channel(1).0,
            generation: AtomicU64::new(0),
        }
    }

    /// Makes the caller the stream's only live reader; returns its generation.
    pub fn claim_reader(&self) -> u64 {
        let g = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.tick.send_modify(|_| {});
        g
    }

    /// Ends the live reader's connection without ending the stream (the client resumes).
    pub fn disconnect_readers(&self) {
        self.claim_reader();
    }

    /// True while `generation` is the live reader.
    pub fn is_current_reader(&self, generation: u64) -> bool {
        self.generation.load(Ordering::SeqCst) == generation
    }

    /// The oldest sequence number still kept (or the next one when empty).
    pub fn first_seq(&self) -> u64 {
        let log = self.state.lock();
        log.events.front().map(|e| e.0).unwrap_or(log.next_seq)
    }

    /// The stream's id (the part of event ids before `_`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The SSE event id of a sequence number.
    pub fn event_id(&self, seq: u64) -> String {
        format!("{}_{}", self.id, seq)
    }

    /// Appends an event, trimming the oldest past capacity. Returns its sequence number.
    pub fn push(&self, data: Bytes) -> u64 {
        let seq = {
            let mut log = self.state.lock();
            let seq = log.next_seq;
            log.next_seq += 1;
            log.events.push_back((seq, data));
            while log.events.len() > self.capacity {
                log.events.pop_front();
            }
            seq
        };
        self.tick.send_replace(seq + 1);
        seq
    }

    /// Inserts an event numbered elsewhere (the shared log of a multi-instance deployment):
    /// ignored when that sequence is already kept or was trimmed, placed in order otherwise.
    /// Returns true when it was added.
    pub fn merge(&self, seq: u64, data: Bytes) -> bool {
        let added = {
            let mut log = self.state.lock();
            let pos = log.events.partition_point(|e| e.0 < seq);
            if log.events.get(pos).is_some_and(|e| e.0 == seq) {
                false
            } else if log.events.len() >= self.capacity && pos == 0 {
                // Older than everything kept in a full log.
                false
            } else {
                log.events.insert(pos, (seq, data));
                while log.events.len() > self.capacity {
                    log.events.pop_front();
                }
                log.next_seq = log.next_seq.max(seq + 1);
                true
            }
        };
        if added {
            let next = self.next_seq();
            self.tick.send_replace(next);
        }
        added
    }

    /// Marks the stream complete: readers end after the last event.
    pub fn finish(&self) {
        let next = {
            let mut log = self.state.lock();
            log.finished = true;
            log.next_seq
        };
        self.tick.send_replace(next);
        // Wake readers even though the value may be unchanged.
        self.tick.send_modify(|_| {});
    }

    /// True once `finish` was called.
    pub fn is_finished(&self) -> bool {
        self.state.lock().finished
    }

    /// Events with a sequence number above `after`.
    pub fn read_after(&self, after: u64) -> Read {
        let log = self.state.lock();
        let first_kept = log.events.front().map(|e| e.0).unwrap_or(log.next_seq);
        if after + 1 < first_kept {
            return Read::Lost;
        }
        let events: Vec<_> = log
            .events
            .iter()
            .filter(|(s, _)| *s > after)
            .cloned()
            .collect();
        if events.is_empty() && log.finished {
            Read::Finished
        } else {
            Read::Events(events)
        }
    }

    /// The sequence number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.state.lock().next_seq
    }

    /// A receiver that changes whenever the log does.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tick.subscribe()
    }
}

/// Splits a `Last-Event-ID` into stream id and sequence; `None` when malformed.
pub fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.rsplit_once('_')?;
    if stream.is_empty() || stream.len() > 64 {
        return None;
    }
    Some((stream, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_after_a_cursor_and_reports_loss() {
        let s = EventStream::new("abc".into(), 2);
        s.push(Bytes::from_static(b"1"));
        s.push(Bytes::from_static(b"2"));
        s.push(Bytes::from_static(b"3"));
        match s.read_after(1) {
            Read::Events(e) => assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 3]),
            _ => panic!("expected events"),
        }
        assert!(matches!(s.read_after(0), Read::Lost));
        s.finish();
        assert!(matches!(s.read_after(3), Read::Finished));
    }

    #[test]
    fn merged_events_keep_order_and_skip_duplicates() {
        let s = EventStream::new("m".into(), 3);
        assert!(s.merge(5, Bytes::from_static(b"5")));
        assert!(s.merge(3, Bytes::from_static(b"3")));
        assert!(!s.merge(5, Bytes::from_static(b"5")));
        assert!(s.merge(4, Bytes::from_static(b"4")));
        assert_eq!(s.next_seq(), 6);
        match s.read_after(2) {
            Read::Events(e) => assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 4, 5]),
            _ => panic!("expected events"),
        }
        // Full, and older than everything kept.
        assert!(!s.merge(1, Bytes::from_static(b"1")));
        assert!(s.merge(6, Bytes::from_static(b"6")));
        assert_eq!(s.first_seq(), 4);
    }

    #[test]
    fn event_ids_round_trip() {
        let s = EventStream::new("x-Y_z".into(), 4);
        assert_eq!(parse_event_id(&s.event_id(7)), Some(("x-Y_z", 7)));
        assert_eq!(parse_event_id("nope"), None);
        assert_eq!(parse_event_id("_3"), None);
        assert_eq!(parse_event_id("a_-1"), None);
    }
}
