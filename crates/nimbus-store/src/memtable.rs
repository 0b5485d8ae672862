//! The memtable as readers see it: the layers of acknowledged writes that
//! the redb table does not hold yet, published by the writer thread.
//!
//! Invariants:
//! - The writer replaces the published [`View`] after every group that
//!   wrote, once the group is durable, after it froze the active layer, and
//!   after the applier applied frozen layers. A `View` never changes once
//!   published.
//! - The applier commits a frozen layer to redb (visible to new read
//!   transactions; durable or not, see `checkpoint`) *before* the writer
//!   publishes a view without it. A reader takes the view first and its redb
//!   read transaction second, so whichever view it got, the pair holds every
//!   acknowledged write: if the view still has the layer, the layer answers
//!   for it (the table may hold the same writes too, which changes nothing,
//!   since layers take precedence); if not, the table had them before the
//!   view was published, hence before the read began.

use std::sync::{Arc, PoisonError, RwLock};

use crate::layer::Layer;
use crate::merge::Stack;

/// The layers over the table at one moment, newest first.
#[derive(Clone)]
pub(crate) struct View {
    pub(crate) active: Layer,
    /// Layers handed to the applier and not yet applied, newest first.
    pub(crate) frozen: Arc<[Arc<Layer>]>,
}

impl Default for View {
    fn default() -> View {
        View {
            active: Layer::default(),
            frozen: Arc::new([]),
        }
    }
}

impl View {
    /// The view's levels, for reads.
    pub(crate) fn stack(&self) -> Stack<'_> {
        Stack {
            overlay: None,
            active: Some(&self.active),
            frozen: &self.frozen,
        }
    }
}

/// Where the writer publishes the current [`View`] and readers take it.
#[derive(Default)]
pub(crate) struct Published(RwLock<Arc<View>>);

impl Published {
    pub(crate) fn get(&self) -> Arc<View> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set(&self, view: View) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(view);
    }
}
