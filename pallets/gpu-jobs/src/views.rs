//! What the pallet reports: the views behind the runtime API.

use crate::{
	BalanceOf, Config, JobId, JobInput, JobInputView, JobView, Jobs, ModelId, ModelRecord, Models,
	Pallet,
};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// The open job `id` as the runtime API returns it.
	pub fn job_view(id: JobId) -> Option<JobView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let job = Jobs::<T>::get(id)?;
		let input = match &job.input {
			JobInput::Inline(data) => JobInputView::Inline(data.to_vec()),
			JobInput::Batch { items, inputs_hash, url } => {
				JobInputView::Batch { items: *items, inputs_hash: *inputs_hash, url: url.to_vec() }
			},
		};
		Some(JobView {
			client: job.client.clone(),
			model: job.model,
			input,
			items: job.items,
			replication: job.k(),
			price: job.price,
			escrow: job.escrow(),
			posted_at: job.posted_at,
			commit_deadline: job.commit_deadline,
			deadline: job.deadline,
			dispute_end: job.dispute_end,
			providers: job.providers.to_vec(),
			status: job.status,
		})
	}

	/// The registered model `id`.
	pub fn model_view(id: ModelId) -> Option<ModelRecord<BalanceOf<T>>> {
		Models::<T>::get(id)
	}
}
