//! The packet comments of a capture: a run has only a handful of distinct ones (a verdict per
//! rule and host, what a cookie keeps, a host being down), so each text is built once and a
//! pending record holds its index.

use crate::net::{HostId, NetDrop, Network};
use crate::tcp::Reason;
use crate::tcp::options::ConnOptions;

/// What a comment says, as a key that compares without looking at text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Discarded by the receiving stack.
    Dropped(HostId, Reason),
    /// Lost in the network when sent.
    Lost(NetDrop),
    /// Sent to a host that is down.
    ToDownHost(HostId),
    /// A cookie SYN-ACK and what its cookie keeps: (MSS, window scale, SACK).
    Cookie(u16, Option<u8>, bool),
    /// Two comments on one packet, in order.
    Both(u32, u32),
}

#[derive(Default)]
pub struct Comments {
    texts: Vec<String>,
    keys: Vec<(Key, u32)>,
}

impl Comments {
    /// The index of the comment for `key`, built on first use.
    pub fn get(&mut self, key: Key, net: &Network) -> u32 {
        self.intern(key, |c| match key {
            Key::Dropped(host, r) => {
                let mut s = format!("dropped by {}: {}", net.host_name(host), r.name());
                if let Some(counter) = r.counter() {
                    s.push_str(&format!(" ({counter})"));
                }
                s
            }
            Key::Lost(d) => format!("lost in the network: {}", d.name()),
            Key::ToDownHost(h) => format!("sent while {} is down", net.host_name(h)),
            Key::Cookie(mss, ws, sack) => cookie_text(mss, ws, sack),
            Key::Both(a, b) => format!("{}; {}", c.text(a), c.text(b)),
        })
    }

    /// The index of the comment saying what a cookie keeps.
    pub fn cookie(&mut self, k: &ConnOptions) -> u32 {
        let (mss, ws, sack) = (k.peer_mss, k.wscale.map(|w| w.0), k.sack);
        self.intern(Key::Cookie(mss, ws, sack), |_| cookie_text(mss, ws, sack))
    }

    fn intern(&mut self, key: Key, make: impl FnOnce(&Comments) -> String) -> u32 {
        if let Some(&(_, i)) = self.keys.iter().find(|(k, _)| *k == key) {
            return i;
        }
        let text = make(self);
        let i = self.texts.len() as u32;
        self.texts.push(text);
        self.keys.push((key, i));
        i
    }

    pub fn text(&self, i: u32) -> &str {
        &self.texts[i as usize]
    }
}

fn cookie_text(mss: u16, ws: Option<u8>, sack: bool) -> String {
    let ws = ws.map_or("no window scaling".to_string(), |w| format!("wscale {w}"));
    let sack = if sack { "SACK" } else { "no SACK" };
    format!("SYN cookie: keeps MSS {mss} (the cookie table value), {ws}, {sack}")
}
