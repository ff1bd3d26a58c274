//! Posting a job: the checks, the escrow hold, and the weighted draw of its providers in a later
//! block.

use crate::{
	is_valid_url, BalanceOf, Config, Draws, Error, Event, Expiries, HoldReason, Job, JobId,
	JobInput, JobInputOf, JobStatus, Jobs, ModelId, ModelRecord, Models, NextJobId, OpenEscrow,
	OpenJobCount, Pallet, Params, ProviderJobs, ProviderSlot, ProviderSlotsOf, ProviderSource,
	RefundReason, WeightInfo, MAX_BATCH_INPUT_BYTES, MAX_JOB_OUTPUTS,
};
use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use codec::Encode;
use dsync_primitives::convert::{u32_to_usize, usize_to_u32};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get, Randomness},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_io::hashing::blake2_256;
use sp_runtime::{
	traits::{CheckedMul, Saturating, Zero},
	ArithmeticError, DispatchError,
};

/// The candidates of a draw: providers and their weights (scores in parts per billion).
type Candidates<T> = Vec<(<T as frame_system::Config>::AccountId, u64)>;

/// The randomness subject of the provider draw.
pub const ASSIGN_SUBJECT: &[u8] = b"dsync/gpu-jobs/assign";

impl<T: Config> Pallet<T> {
	/// Check and post a job; returns its id.
	pub(crate) fn do_post_job(
		client: T::AccountId,
		model: ModelId,
		input: JobInputOf<T>,
		replication: u8,
		price: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(record.active, Error::<T>::ModelInactive);
		let k = u32::from(replication);
		ensure!((1..=T::MaxReplication::get()).contains(&k), Error::<T>::InvalidReplication);
		let items = Self::check_input(&record, &input)?;
		let floor = record.price_floor.saturating_mul(items.into());
		ensure!(!price.is_zero() && price >= floor, Error::<T>::PriceBelowFloor);

		let params = Params::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		let earliest = now.saturating_add(params.min_deadline.into());
		let latest = now.saturating_add(params.max_deadline.into());
		ensure!((earliest..=latest).contains(&deadline), Error::<T>::InvalidDeadline);
		ensure!(OpenJobCount::<T>::get() < T::MaxOpenJobs::get(), Error::<T>::TooManyOpenJobs);
		let escrow = price.checked_mul(&k.into()).ok_or(ArithmeticError::Overflow)?;
		let id = NextJobId::<T>::get();
		let next_id = id.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		let commit_deadline = deadline.saturating_sub(params.reveal_period.into());
		let dispute_end = deadline.saturating_add(params.dispute_period.into());
		let room = |block: BlockNumberFor<T>| {
			Expiries::<T>::decode_len(block).unwrap_or(0)
				< u32_to_usize(T::MaxExpiriesPerBlock::get())
		};
		ensure!(room(deadline) && room(dispute_end), Error::<T>::ExpiryQueueFull);
		let delay = T::DrawDelay::get();
		let draw_at = now.saturating_add(delay.into());
		// Providers drawn later still get a commit window of at least one block.
		ensure!(draw_at < commit_deadline, Error::<T>::InvalidDeadline);
		// Drawn now only without a delay; otherwise checked now (a clear error at once) and
		// drawn in block `draw_at`, with randomness nobody knows yet.
		let drawn_now = if delay == 0 {
			Some(Self::draw_providers(model, k, &client, id)?)
		} else {
			ensure!(Self::can_draw(model, k, &client), Error::<T>::NotEnoughProviders);
			let queued = Draws::<T>::decode_len(draw_at).unwrap_or(0);
			ensure!(queued < u32_to_usize(T::MaxDrawsPerBlock::get()), Error::<T>::DrawQueueFull);
			None
		};
		T::Currency::hold(&HoldReason::Escrow.into(), &client, escrow)?;

		// Only writes below: the queues were checked for room, the escrow is held.
		for block in [deadline, dispute_end] {
			Expiries::<T>::try_mutate(block, |queue| queue.try_push(id))
				.map_err(|_| Error::<T>::ExpiryQueueFull)?;
		}
		if drawn_now.is_none() {
			Draws::<T>::try_mutate(draw_at, |queue| queue.try_push(id))
				.map_err(|_| Error::<T>::DrawQueueFull)?;
		}
		let job = Job::<T> {
			client: client.clone(),
			model,
			input,
			items,
			price,
			posted_at: now,
			commit_deadline,
			deadline,
			dispute_end,
			providers: BoundedVec::new(),
			status: JobStatus::Drawing { k: replication },
		};
		NextJobId::<T>::put(next_id);
		OpenJobCount::<T>::mutate(|count| *count = count.saturating_add(1));
		OpenEscrow::<T>::mutate(|total| *total = total.saturating_add(escrow));
		Self::deposit_event(Event::JobPosted {
			job: id,
			client,
			model,
			k: replication,
			price,
			draw_at,
			deadline,
		});
		match drawn_now {
			Some(providers) => Self::assign(id, job, providers),
			None => Jobs::<T>::insert(id, job),
		}
		Ok(id)
	}

	/// Give job `id` (`Drawing`, stored or about to be) its drawn `providers`: list it for them,
	/// open it for commitments, store it and emit [`Event::JobAssigned`].
	fn assign(id: JobId, mut job: Job<T>, providers: ProviderSlotsOf<T>) {
		for slot in providers.iter() {
			ProviderJobs::<T>::insert(&slot.who, id, ());
		}
		let drawn: Vec<T::AccountId> = providers.iter().map(|slot| slot.who.clone()).collect();
		job.providers = providers;
		job.status = JobStatus::Open;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::JobAssigned { job: id, providers: drawn });
	}

	/// Draw the providers of the jobs listed for block `now` in [`Draws`] (all of them: at most
	/// `MaxDrawsPerBlock`). A job whose draw finds fewer than `k` eligible providers (they left
	/// since it was posted) is refunded in full ([`RefundReason::NoProviders`]). Returns the
	/// weight used.
	///
	/// The candidates of a model are read once per block, for all its draws (nothing in a draw
	/// changes them): the weight is, per model drawn, `on_initialize_draw(n)` for its `n` draws
	/// (benchmarked with every candidate the runtime allows) plus the registry's
	/// `eligible_overhead`.
	pub(crate) fn process_draws(now: BlockNumberFor<T>) -> Weight {
		let queue = Draws::<T>::take(now);
		// Per model: its candidates and its number of draws in this block.
		let mut models: BTreeMap<ModelId, (Candidates<T>, u32)> = BTreeMap::new();
		for id in queue {
			let Some(job) = Jobs::<T>::get(id) else { continue };
			let JobStatus::Drawing { k } = job.status else { continue };
			let (candidates, draws) =
				models.entry(job.model).or_insert_with(|| (Self::candidates(job.model), 0));
			*draws = draws.saturating_add(1);
			match Self::draw_among(candidates, u32::from(k), &job.client, id) {
				Ok(providers) => Self::assign(id, job, providers),
				Err(_) => Self::refund(id, job, RefundReason::NoProviders, &Default::default()),
			}
		}
		models.values().fold(
			<T as frame_system::Config>::DbWeight::get().reads_writes(1, 1),
			|weight, (_, draws)| {
				weight
					.saturating_add(T::WeightInfo::on_initialize_draw(*draws))
					.saturating_add(T::Providers::eligible_overhead())
			},
		)
	}

	/// Whether `k` providers of `model` other than `client` are eligible now (checked when a
	/// job is posted; drawn later).
	fn can_draw(model: ModelId, k: u32, client: &T::AccountId) -> bool {
		let eligible = Self::candidates(model).into_iter().filter(|(who, _)| who != client).count();
		usize_to_u32(eligible) >= k
	}

	/// Check `input` against the model; returns the number of items.
	///
	/// Inline: a non-empty whole number of items. Batch: at least one item, a valid URL, at
	/// most `MAX_BATCH_INPUT_BYTES` of input. Both: at most `MAX_JOB_OUTPUTS` output values.
	pub(crate) fn check_input(
		record: &ModelRecord<BalanceOf<T>>,
		input: &JobInputOf<T>,
	) -> Result<u32, Error<T>> {
		let input_len = record.input_len;
		let items = match input {
			JobInput::Inline(data) => {
				let len = u32::try_from(data.len()).map_err(|_| Error::<T>::InvalidInput)?;
				ensure!(len > 0 && len.checked_rem(input_len) == Some(0), Error::<T>::InvalidInput);
				len.checked_div(input_len).ok_or(Error::<T>::InvalidInput)?
			},
			JobInput::Batch { items, url, .. } => {
				ensure!(*items >= 1, Error::<T>::InvalidInput);
				ensure!(is_valid_url(url), Error::<T>::InvalidUrl);
				let bytes = u32::checked_mul(*items, input_len).ok_or(Error::<T>::JobTooLarge)?;
				ensure!(bytes <= MAX_BATCH_INPUT_BYTES, Error::<T>::JobTooLarge);
				*items
			},
		};
		let outputs = items.checked_mul(record.output_len).ok_or(Error::<T>::JobTooLarge)?;
		ensure!(outputs <= MAX_JOB_OUTPUTS, Error::<T>::JobTooLarge);
		Ok(items)
	}

	/// The candidates of a draw of `model`'s providers: the eligible ones (at most
	/// `MaxCandidates`, every one in the runtime) with a non-zero score, weighted by it.
	fn candidates(model: ModelId) -> Candidates<T> {
		let max = T::MaxCandidates::get();
		T::Providers::eligible(model, max)
			.into_iter()
			.take(u32_to_usize(max))
			.filter(|(_, score)| !score.is_zero())
			.map(|(who, score)| (who, u64::from(score.deconstruct())))
			.collect()
	}

	/// Draw `k` distinct providers of `model` for job `job`, weighted by score, without
	/// replacement, among its candidates other than `client`, seeded by this block's
	/// randomness. See the crate documentation for the draw. Public so a client (or a test) can
	/// see what a draw in the current block would give; the real draw of a job happens
	/// `DrawDelay` blocks after it is posted, with randomness not known before.
	pub fn draw_providers(
		model: ModelId,
		k: u32,
		client: &T::AccountId,
		job: JobId,
	) -> Result<ProviderSlotsOf<T>, Error<T>> {
		Self::draw_among(&Self::candidates(model), k, client, job)
	}

	/// Draw `k` distinct providers for job `job` among `candidates` other than `client`
	/// ([`Self::draw_providers`]).
	fn draw_among(
		candidates: &[(T::AccountId, u64)],
		k: u32,
		client: &T::AccountId,
		job: JobId,
	) -> Result<ProviderSlotsOf<T>, Error<T>> {
		let mut candidates: Candidates<T> =
			candidates.iter().filter(|(who, _)| who != client).cloned().collect();
		let (random, _) = T::Randomness::random(ASSIGN_SUBJECT);
		let seed = blake2_256(&(random, job).encode());

		let mut slots = BoundedVec::<ProviderSlot<T::AccountId>, T::MaxReplication>::new();
		let mut draw = 0u32;
		while usize_to_u32(slots.len()) < k {
			// Scores are at most 10^9 and candidates at most `MaxCandidates`: no saturation.
			let total =
				candidates.iter().fold(0u64, |sum, (_, weight)| sum.saturating_add(*weight));
			let point =
				ticket(&seed, draw).checked_rem(total).ok_or(Error::<T>::NotEnoughProviders)?;
			let mut cumulative = 0u64;
			let chosen = candidates
				.iter()
				.find(|(_, weight)| {
					cumulative = cumulative.saturating_add(*weight);
					point < cumulative
				})
				.map(|(who, _)| who.clone())
				.ok_or(Error::<T>::NotEnoughProviders)?;
			// Removes duplicates of the chosen provider too.
			candidates.retain(|(who, _)| *who != chosen);
			slots
				.try_push(ProviderSlot { who: chosen, commitment: None, result: None })
				.map_err(|_| Error::<T>::InvalidReplication)?;
			draw = draw.saturating_add(1);
		}
		Ok(slots)
	}
}

/// The `draw`-th random number of a draw: the first 8 bytes (little endian) of
/// `blake2_256(SCALE((seed, draw)))`.
fn ticket(seed: &[u8; 32], draw: u32) -> u64 {
	let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = blake2_256(&(seed, draw).encode());
	u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
}
