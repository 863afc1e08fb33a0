//! Taking turns on the machine. The tests of this binary run side by side; a test
//! that measures timing, or loads the machine enough to upset another's
//! timing, takes it alone.

use std::cell::Cell;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::new(());

thread_local! {
    /// Whether this test (each runs on a thread of its own) holds a turn.
    static HOLDS_A_TURN: Cell<bool> = const { Cell::new(false) };
}

/// A turn on the machine, given back when dropped.
pub struct Turn {
    holds: bool,
    _shared: Option<RwLockReadGuard<'static, ()>>,
    _alone: Option<RwLockWriteGuard<'static, ()>>,
}

/// A turn shared with other tests: every `TestApp` and `Cluster` holds one.
/// Inside a test that already holds a turn it adds nothing.
pub fn shared() -> Turn {
    if HOLDS_A_TURN.get() {
        return Turn {
            holds: false,
            _shared: None,
            _alone: None,
        };
    }
    let guard = MACHINE.read().unwrap_or_else(PoisonError::into_inner);
    HOLDS_A_TURN.set(true);
    Turn {
        holds: true,
        _shared: Some(guard),
        _alone: None,
    }
}

/// The machine alone: waits for the tests running now to finish, and keeps
/// others from starting until the turn is dropped. Taken first in the test.
pub fn alone() -> Turn {
    assert!(
        !HOLDS_A_TURN.get(),
        "take the machine alone before starting servers"
    );
    // A test that failed alone poisons the lock; the machine is free all the same.
    let guard = MACHINE.write().unwrap_or_else(PoisonError::into_inner);
    HOLDS_A_TURN.set(true);
    Turn {
        holds: true,
        _shared: None,
        _alone: Some(guard),
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.holds {
            HOLDS_A_TURN.set(false);
        }
    }
}
