"""HTTP faces of the sandbox: each cloud's routing, signature checks, parameters and envelopes."""
