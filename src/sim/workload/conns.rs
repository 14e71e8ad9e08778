//! The applications' per-connection state of one host, keyed by the stack's connection slot.
//!
//! Most connection slots of a flooded server are half-open requests, which no application
//! holds. So the table per slot is a 4-byte index ([`ConnApps::by_slot`]) into a dense slab of
//! the connections an application does hold: memory follows those, not the SYN queue's size.
//! (A `ConnApp` per slot cost about 160 bytes per half-open entry: 168 MB of a run with a
//! million live entries, measured with massif.)

use slab::Slab;

use super::ConnApp;
use crate::tcp::ConnId;

/// No application holds this slot.
const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub(super) struct ConnApps {
    /// By connection slot: the key in `apps`, or [`NONE`].
    by_slot: Vec<u32>,
    /// The held connections: (serial, application).
    apps: Slab<(u64, ConnApp)>,
}

impl ConnApps {
    /// The application holding slot `id`, with the serial of the connection it holds.
    pub(super) fn get_mut(&mut self, id: ConnId) -> Option<&mut (u64, ConnApp)> {
        let i = *self.by_slot.get(id.0 as usize)?;
        self.apps.get_mut(i as usize)
    }

    /// Slot `id` is now held by `app` (replacing whatever held it).
    pub(super) fn insert(&mut self, id: ConnId, serial: u64, app: ConnApp) {
        let s = id.0 as usize;
        if self.by_slot.len() <= s {
            self.by_slot.resize(s + 1, NONE);
        }
        match self.apps.get_mut(self.by_slot[s] as usize) {
            Some(held) => *held = (serial, app),
            None => self.by_slot[s] = self.apps.insert((serial, app)) as u32,
        }
    }

    /// No application holds slot `id` any more.
    pub(super) fn remove(&mut self, id: ConnId) {
        if let Some(i) = self.by_slot.get_mut(id.0 as usize) {
            self.apps.try_remove(*i as usize);
            *i = NONE;
        }
    }

    /// Every connection is gone (the host crashed).
    pub(super) fn clear(&mut self) {
        self.by_slot.clear();
        self.apps.clear();
    }

    /// The held connections in slot order (what reports list, so it does not depend on the
    /// order the slab was filled in).
    pub(super) fn iter(&self) -> impl Iterator<Item = (ConnId, &ConnApp)> {
        self.by_slot.iter().enumerate().filter_map(|(s, &i)| {
            let (_, app) = self.apps.get(i as usize)?;
            Some((ConnId(s as u32), app))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ServerApp;

    fn app() -> ConnApp {
        ConnApp::Server(ServerApp::Discard)
    }

    #[test]
    fn slots_map_to_reused_entries_and_iterate_in_slot_order() {
        let mut t = ConnApps::default();
        t.insert(ConnId(7), 1, app());
        t.insert(ConnId(2), 2, app());
        assert_eq!(t.get_mut(ConnId(7)).unwrap().0, 1);
        assert!(t.get_mut(ConnId(3)).is_none());
        assert!(t.get_mut(ConnId(100)).is_none());
        t.remove(ConnId(7));
        assert!(t.get_mut(ConnId(7)).is_none());
        t.insert(ConnId(9), 3, app());
        assert_eq!(t.apps.len(), 2, "the freed entry is reused");
        t.insert(ConnId(9), 4, app());
        assert_eq!(
            t.get_mut(ConnId(9)).unwrap().0,
            4,
            "a second insert replaces"
        );
        let slots: Vec<u32> = t.iter().map(|(c, _)| c.0).collect();
        assert_eq!(slots, [2, 9]);
        t.clear();
        assert_eq!(t.iter().count(), 0);
    }
}
