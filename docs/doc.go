// Package docs holds trnsim's reference documents, hardware.md (one
// NeuronCore, one GPU, prices) and systems.md (multi-core chips,
// interconnect, instances, model shapes), which every hardware constant in
// the code cites, and a test that every such citation in the repository
// names a part and section these documents have. It has no code.
package docs
