//! Who holds which of a [`Manager`](super::Manager)'s objects: the
//! server's reference counts, so that an object is freed when its last
//! proxy, in any process, is gone (as Python's manager server does with
//! its `incref` / `decref`).
//!
//! # The idea
//! Every count belongs to a *client*: one process's [`Link`] to the server
//! (all its connections carry the link's random 64-bit id in their first
//! packet). A proxy made by `Manager::dict` and its kin is one count of
//! its client; a clone is one more; a drop is one fewer. An object's total
//! is the sum over the clients, and at zero the object is freed.
//!
//! A proxy on its way to another process counts too: serializing it adds
//! one to the sender's count (the copy in flight), and the receiver, on
//! arrival, *adopts* that count (one more for itself, one fewer for the
//! sender). So an object passed to a child and dropped at once by its
//! parent stays alive for the child. A copy that is never received stays
//! counted to its sender, until the sender's process lets go of the
//! manager.
//!
//! A client whose last connection closes (its process died, or dropped
//! its last proxy of the manager) gives up all its counts at once: a
//! killed process frees what only it held, and never what others hold.
//! A client can only ever give up counts it holds: a decrement of a count
//! it does not hold (a bug, a stranger) changes nothing. (A link's
//! connections close with the link, or on an error that means the server
//! is gone or broken: a live client does not lose its counts otherwise.)
//!
//! [`Link`]: super::manager_link
//!
//! ```
//! // Internal: the server keeps it; Manager::live_objects shows it.
//! # let _ = brigade::process::Manager::start;
//! ```

use std::collections::HashMap;

/// A client's id (a link's, chosen by the client).
pub(crate) type ClientId = u64;

/// The counts of one server.
#[derive(Default)]
pub(crate) struct Holders {
    clients: HashMap<ClientId, Client>,
    /// Every live object's total count.
    totals: HashMap<u32, u64>,
}

#[derive(Default)]
struct Client {
    /// Its connections still open.
    connections: usize,
    /// Its count of each object it holds (never zero: removed at zero).
    held: HashMap<u32, u64>,
}

impl Holders {
    /// A connection of `client` opened.
    pub(crate) fn connect(&mut self, client: ClientId) {
        self.clients.entry(client).or_default().connections += 1;
    }

    /// A connection of `client` closed; at its last, the client gives up
    /// every count it held. Returns the objects to free.
    pub(crate) fn disconnect(&mut self, client: ClientId) -> Vec<u32> {
        let Some(c) = self.clients.get_mut(&client) else {
            return Vec::new();
        };
        c.connections = c.connections.saturating_sub(1);
        if c.connections > 0 {
            return Vec::new();
        }
        let Some(c) = self.clients.remove(&client) else {
            return Vec::new();
        };
        let mut freed = Vec::new();
        for (object, n) in c.held {
            if self.drop_from_total(object, n) {
                freed.push(object);
            }
        }
        freed.sort_unstable();
        freed
    }

    /// A new object, held once by `client`.
    pub(crate) fn created(&mut self, client: ClientId, object: u32) {
        self.totals.insert(object, 1);
        self.hold(client, object);
    }

    /// One more count of `client` on a live `object`; `false` if the object
    /// is gone.
    pub(crate) fn incref(&mut self, client: ClientId, object: u32) -> bool {
        let Some(total) = self.totals.get_mut(&object) else {
            return false;
        };
        *total += 1;
        self.hold(client, object);
        true
    }

    /// Counts one more hold of `client` on `object` (its total is the
    /// caller's to keep).
    fn hold(&mut self, client: ClientId, object: u32) {
        *self
            .clients
            .entry(client)
            .or_default()
            .held
            .entry(object)
            .or_default() += 1;
    }

    /// One count fewer of `client` on `object`, if it holds one. Returns
    /// whether the object is to be freed.
    pub(crate) fn decref(&mut self, client: ClientId, object: u32) -> bool {
        let Some(c) = self.clients.get_mut(&client) else {
            return false;
        };
        let Some(n) = c.held.get_mut(&object) else {
            return false;
        };
        *n -= 1;
        if *n == 0 {
            c.held.remove(&object);
        }
        self.drop_from_total(object, 1)
    }

    /// `client` takes over one count that `from` holds for a copy in
    /// flight; if `from` holds none any more (it let go of the manager), it
    /// is a plain [`incref`](Self::incref). `false` if the object is gone.
    pub(crate) fn adopt(&mut self, client: ClientId, object: u32, from: ClientId) -> bool {
        if !self.incref(client, object) {
            return false;
        }
        // The total is at least 2 now: this never frees.
        self.decref(from, object);
        true
    }

    /// How many objects are alive.
    pub(crate) fn live(&self) -> usize {
        self.totals.len()
    }

    fn drop_from_total(&mut self, object: u32, n: u64) -> bool {
        let Some(total) = self.totals.get_mut(&object) else {
            return false;
        };
        *total = total.saturating_sub(n);
        if *total > 0 {
            return false;
        }
        self.totals.remove(&object);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_lives_while_any_client_holds_it() {
        let mut h = Holders::default();
        h.connect(1);
        h.connect(2);
        h.created(1, 7);
        assert!(h.incref(1, 7));
        assert!(!h.decref(1, 7));
        // Passed to client 2 through a copy in flight.
        assert!(h.incref(1, 7));
        assert!(h.adopt(2, 7, 1));
        assert!(!h.decref(1, 7), "client 2 still holds it");
        assert_eq!(h.live(), 1);
        assert!(h.decref(2, 7), "the last count is gone");
        assert_eq!(h.live(), 0);
        assert!(!h.incref(1, 7), "a freed object stays freed");
    }

    #[test]
    fn a_client_cannot_give_up_counts_it_does_not_hold() {
        let mut h = Holders::default();
        h.connect(1);
        h.created(1, 3);
        assert!(!h.decref(2, 3));
        assert!(!h.decref(2, 3));
        assert_eq!(h.live(), 1);
        assert_eq!(h.disconnect(2), Vec::<u32>::new());
        assert_eq!(h.live(), 1);
    }

    #[test]
    fn a_client_gone_gives_up_its_counts_at_its_last_connection() {
        let mut h = Holders::default();
        h.connect(1);
        h.connect(1);
        h.connect(2);
        h.created(1, 0);
        h.created(1, 1);
        assert!(h.incref(2, 1));
        assert_eq!(h.disconnect(1), Vec::<u32>::new(), "one connection left");
        assert_eq!(h.disconnect(1), vec![0], "only what client 1 alone held");
        assert_eq!(h.live(), 1);
        assert_eq!(h.disconnect(2), vec![1]);
        assert_eq!(h.live(), 0);
    }
}
