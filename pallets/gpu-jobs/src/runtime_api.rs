//! The runtime API of the GPU-jobs pallet, so that clients, explorers and the `aivm` tooling read
//! an open job and a registered model in one call.
//!
//! The runtime implements `GpuJobsApi<Block, AccountId, Balance, BlockNumber>` in its
//! `impl_runtime_apis!` block, with `job` returning [`Pallet::job_view`](crate::Pallet::job_view)
//! and `model` returning [`Pallet::model_view`](crate::Pallet::model_view). Clients call them as
//! `api.call.gpuJobsApi.job(id)` and `api.call.gpuJobsApi.model(id)` (`@polkadot/api`).

pub use crate::types::{JobId, JobInputView, JobStatus, JobView, ModelRecord, ProviderSlot};
use codec::Codec;
pub use dsync_primitives::traits::ModelId;

sp_api::decl_runtime_apis! {
	/// Open jobs and registered models.
	pub trait GpuJobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The open job `id`; `None` once it ended (its end is in the `JobSettled`,
		/// `JobRefunded` or `JobExpired` event) or if it never existed.
		fn job(id: JobId) -> Option<JobView<AccountId, Balance, BlockNumber>>;

		/// The registered model `id`.
		fn model(id: ModelId) -> Option<ModelRecord<Balance>>;
	}
}
