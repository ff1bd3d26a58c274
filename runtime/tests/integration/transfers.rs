//! Transfers, fees and refused transactions.

use crate::chain::{free, signed, signed_with, total_issuance, TestChain};
use dsync_primitives::currency::DSYNC;
use dsync_runtime::{
	genesis_config_presets::LOCAL_TESTNET, Authorship, BalancesCall, RuntimeCall, RuntimeEvent,
	System, TransactionPayment, UncheckedExtrinsic,
};
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionValidityError},
	DispatchError, MultiAddress, MultiSignature, TokenError,
};

fn transfer(to: sp_keyring::Sr25519Keyring, value: u128) -> RuntimeCall {
	RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
		dest: MultiAddress::Id(to.to_account_id()),
		value,
	})
}

/// The fee (tip included) and the tip the last block's transaction paid.
fn fee_and_tip(events: &[RuntimeEvent]) -> (u128, u128) {
	events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, tip, .. },
			) => Some((*actual_fee, *tip)),
			_ => None,
		})
		.expect("a fee was paid")
}

fn fee_paid(events: &[RuntimeEvent]) -> u128 {
	fee_and_tip(events).0
}

/// The fee the runtime quotes for `xt` (without tip) in the current state.
fn quoted_fee(xt: &UncheckedExtrinsic) -> u128 {
	use codec::Encode;
	TransactionPayment::query_info(xt.clone(), xt.encoded_size() as u32).partial_fee
}

#[test]
fn a_transfer_moves_funds_and_charges_a_fee() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let (eve, ferdie) = (Eve.to_account_id(), Ferdie.to_account_id());
	let (eve_before, ferdie_before, issuance_before) =
		chain.execute(|| (free(&eve), free(&ferdie), total_issuance()));
	let amount = 12_345 * DSYNC / 1_000;

	let xt = chain.execute(|| signed(Eve, transfer(Ferdie, amount)));
	let results = chain.next_block(vec![xt]);
	assert_eq!(results, vec![Ok(Ok(()))]);

	let events = chain.events();
	let fee = fee_paid(&events);
	assert!(fee > 0, "transactions are not free");
	assert!(events.contains(&RuntimeEvent::Balances(pallet_balances::Event::Transfer {
		from: eve.clone(),
		to: ferdie.clone(),
		amount,
	})));
	chain.execute(|| {
		assert_eq!(free(&ferdie), ferdie_before + amount);
		assert_eq!(free(&eve), eve_before - amount - fee);
		assert_eq!(System::account_nonce(&eve), 1);
		// Nothing was created; the fee's burn share was destroyed.
		let burn = pallet_tokenomics::FeeSplit::<dsync_runtime::Runtime>::get().burn;
		assert_eq!(issuance_before - total_issuance(), burn.mul_floor(fee));
		let author = Authorship::author().expect("block has an author");
		assert!(free(&author) > 0);
	});
}

#[test]
fn the_fee_is_the_quoted_fee_plus_the_tip() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let (xt, quote) = chain.execute(|| {
		let xt = signed_with(Eve, transfer(Ferdie, DSYNC), 0, 0);
		let quote = quoted_fee(&xt);
		(xt, quote)
	});
	chain.next_block(vec![xt]);
	assert_eq!(fee_and_tip(&chain.events()), (quote, 0));

	let (xt, quote) = chain.execute(|| {
		let xt = signed_with(Eve, transfer(Ferdie, DSYNC), 1, 7 * DSYNC);
		let quote = quoted_fee(&xt);
		(xt, quote)
	});
	chain.next_block(vec![xt]);
	assert_eq!(fee_and_tip(&chain.events()), (quote + 7 * DSYNC, 7 * DSYNC));
	// A transfer costs on the order of a hundredth of a DSYNC.
	assert!(quote > DSYNC / 1_000 && quote < DSYNC / 10, "fee {quote}");
}

#[test]
fn a_transfer_above_the_balance_fails_and_moves_nothing_but_the_fee() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let (eve, ferdie) = (Eve.to_account_id(), Ferdie.to_account_id());
	let (eve_before, ferdie_before) = chain.execute(|| (free(&eve), free(&ferdie)));

	let xt = chain.execute(|| signed(Eve, transfer(Ferdie, eve_before + 1)));
	let results = chain.next_block(vec![xt]);
	// Included (the fee is paid) but the dispatch failed.
	assert_eq!(results.len(), 1);
	let dispatch = results[0].expect("the transaction is valid");
	assert_eq!(dispatch, Err(DispatchError::Token(TokenError::FundsUnavailable)));
	let fee = fee_paid(&chain.events());
	chain.execute(|| {
		assert_eq!(free(&ferdie), ferdie_before);
		assert_eq!(free(&eve), eve_before - fee);
	});
}

#[test]
fn a_transaction_with_a_bad_signature_is_refused_and_changes_nothing() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let (eve, ferdie) = (Eve.to_account_id(), Ferdie.to_account_id());
	let (eve_before, ferdie_before) = chain.execute(|| (free(&eve), free(&ferdie)));

	let xt = chain.execute(|| {
		let good = signed(Eve, transfer(Ferdie, DSYNC));
		let (address, _signature, extension) = good.preamble.to_signed().expect("signed");
		// Ferdie's signature over the same payload does not match Eve's address.
		let forged = signed(Ferdie, transfer(Ferdie, DSYNC));
		let (_, signature, _) = forged.preamble.to_signed().expect("signed");
		let call = good.function.clone();
		UncheckedExtrinsic::new_signed(call, address, signature, extension)
	});
	let results = chain.next_block(vec![xt]);
	assert_eq!(results, vec![Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))]);
	chain.execute(|| {
		assert_eq!(free(&eve), eve_before);
		assert_eq!(free(&ferdie), ferdie_before);
		assert_eq!(System::account_nonce(&eve), 0);
	});
}

#[test]
fn a_transaction_with_a_garbage_signature_is_refused() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let xt = chain.execute(|| {
		let good = signed(Eve, transfer(Ferdie, DSYNC));
		let (address, _signature, extension) = good.preamble.to_signed().expect("signed");
		let garbage = MultiSignature::Sr25519(sp_core::sr25519::Signature::from_raw([7u8; 64]));
		UncheckedExtrinsic::new_signed(good.function.clone(), address, garbage, extension)
	});
	let results = chain.next_block(vec![xt]);
	assert_eq!(results, vec![Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))]);
}

#[test]
fn a_transaction_with_a_stale_nonce_is_refused() {
	let mut chain = TestChain::new(LOCAL_TESTNET);
	let xt = chain.execute(|| signed(Eve, transfer(Ferdie, DSYNC)));
	assert_eq!(chain.next_block(vec![xt.clone()]), vec![Ok(Ok(()))]);
	assert_eq!(
		chain.next_block(vec![xt]),
		vec![Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))]
	);
}
