//! Traits shared by the DSYNC pallets.
//!
//! Service pallets (GPU jobs, naming, storage) charge clients through one service-payment trait
//! declared here and implemented by `pallet-tokenomics`, so the burn rule lives in one place; they
//! find their providers through the node registry and report faults and usage to Proof of Sync
//! through traits declared here, never through another pallet's inherent functions.
//!
//! - [`services`]: what services share.
//!   - [`ServiceKind`]: which service a payment is for; every kind has its own governed burn and
//!     treasury shares and its own running totals.
//!   - [`PaymentSplit`]: where one payment went (burned, provider, treasury).
//!   - [`ServicePayment`]: the charge every service pallet makes through.
//!   - [`UsageRecorder`]: what each provider delivered to each client, with the
//!     [`UsageProof`] that says whether it was checked independently and what its payment
//!     burned.
//!   - [`ServiceFaults`]: how services report a provider's fault (missed, proven wrong).
//!   - [`ModelId`]: the identifier of an inference model.
//!   - [`StorageRetrieval`]: which piece of a storage provider's slots a verifier fetches
//!     ([`RetrievalCheck`]).
//! - [`nodes`]: what the node registry and Proof of Sync share.
//!   - [`NodeRole`], [`NodeStatus`], [`NodeSummary`]: one registered node.
//!   - [`NodeRegistry`]: the registry interface (nodes, keys, probe targets, verifier candidates,
//!     the provider index of each service kind, status changes, slashing).
//!   - [`SlashReason`]: why a bond is slashed.
//!   - [`NodeScores`]: Proof of Sync's view of node quality.

pub mod nodes;
pub mod services;

pub use nodes::{NodeRegistry, NodeRole, NodeScores, NodeStatus, NodeSummary, SlashReason};
pub use services::{
	ModelId, PaymentSplit, RetrievalCheck, ServiceFaults, ServiceKind, ServicePayment,
	StorageRetrieval, UsageProof, UsageRecorder,
};

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_unit_implementations_know_nothing_and_ignore_reports() {
		assert_eq!(<() as NodeScores<u64>>::score(&1), None);
		<() as ServiceFaults<u64>>::missed(&1, ServiceKind::GpuInference);
		<() as ServiceFaults<u64>>::proven_wrong(&1, ServiceKind::Naming);
		let proof = UsageProof { verified: true, burned: 4 };
		<() as UsageRecorder<u64>>::record_usage(&1, &2, ServiceKind::Storage, 3, proof);
		assert_eq!(<() as StorageRetrieval<u64>>::retrieval_check(&1, &[0; 32]), None);
	}
}
