//! The engines a server runs, by kind. Wiring registers each enabled engine once; everything
//! else looks engines up here, so adding one (the Cloud API) is a crate and a `register` line.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasl_domain::EngineKind;

use crate::sandbox::SandboxEngine;
use crate::{Capabilities, Engine};

#[derive(Clone, Default)]
pub struct EngineRegistry {
    engines: BTreeMap<&'static str, Arc<dyn Engine>>,
    /// The sandbox is also driven directly (its simulated phones scan, write and read), so
    /// its concrete type is kept beside its place in the map.
    sandbox: Option<Arc<SandboxEngine>>,
}

impl EngineRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an engine under its kind; a second engine of the same kind replaces the first.
    pub fn register(&mut self, engine: Arc<dyn Engine>) -> &mut Self {
        self.engines.insert(engine.kind().as_str(), engine);
        self
    }

    /// Adds the sandbox engine, keeping the handle its simulated phones are driven through.
    pub fn register_sandbox(&mut self, sandbox: Arc<SandboxEngine>) -> &mut Self {
        self.register(sandbox.clone());
        self.sandbox = Some(sandbox);
        self
    }

    pub fn get(&self, kind: EngineKind) -> Option<Arc<dyn Engine>> {
        self.engines.get(kind.as_str()).cloned()
    }

    pub fn capabilities(&self, kind: EngineKind) -> Option<Capabilities> {
        self.engines.get(kind.as_str()).map(|e| e.capabilities())
    }

    /// The sandbox engine, when it is enabled.
    pub fn sandbox(&self) -> Option<&Arc<SandboxEngine>> {
        self.sandbox.as_ref()
    }

    /// The enabled engines, in a stable order.
    pub fn enabled(&self) -> impl Iterator<Item = &Arc<dyn Engine>> {
        self.engines.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn engines_are_found_by_kind_and_the_sandbox_keeps_its_handle() {
        let mut registry = EngineRegistry::new();
        assert!(registry.get(EngineKind::Sandbox).is_none());
        registry.register_sandbox(Arc::new(SandboxEngine::new(SandboxConfig::default())));
        assert_eq!(
            registry.get(EngineKind::Sandbox).map(|e| e.kind()),
            Some(EngineKind::Sandbox)
        );
        assert!(registry.sandbox().is_some());
        assert!(registry.get(EngineKind::Web).is_none());
        assert!(registry
            .capabilities(EngineKind::Sandbox)
            .is_some_and(|c| c.linking.qr));
        assert_eq!(registry.enabled().count(), 1);
    }
}
