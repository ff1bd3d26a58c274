//! Naming across pallets, on the development preset: a name registered by commit and reveal with
//! real signed transactions pays its rent through `Tokenomics` (the naming burn share leaves
//! the issuance, the rest goes to the treasury), gets records that the runtime API (what the
//! node's DNS server reads) returns, expires after the preset's short year, and is answered as
//! unknown afterwards.

use crate::chain::{free, signed, total_issuance, TestChain};
use dsync_primitives::{currency::DSYNC, naming::namehash, AccountId, Balance, BlockNumber};
use dsync_runtime::{
	constants::TreasuryAccount, genesis_config_presets::DEVELOPMENT, Block, Naming, Runtime,
	RuntimeCall, RuntimeEvent, System,
};
use pallet_naming::{
	runtime_api::runtime_decl_for_naming_api::NamingApiV1, Event as NamingEvent, RecordKind,
	RecordValue, RecordValues,
};
use sp_keyring::Sr25519Keyring::{self, *};

const SECRET: [u8; 32] = [0x42; 32];

/// Submit `call` from `who` in its own block; the dispatch result.
fn run(
	chain: &mut TestChain,
	who: Sr25519Keyring,
	call: pallet_naming::Call<Runtime>,
) -> Result<(), sp_runtime::DispatchError> {
	let xt = chain.execute(|| signed(who, RuntimeCall::Naming(call)));
	let results = chain.next_block(vec![xt]);
	assert_eq!(results.len(), 1);
	results[0].expect("the transaction is valid")
}

fn naming_events(chain: &mut TestChain) -> Vec<NamingEvent<Runtime>> {
	chain
		.events()
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Naming(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Commit and register `label` for `who` for one (development) year; the rent paid.
fn register(chain: &mut TestChain, who: Sr25519Keyring, label: &str) {
	let owner = who.to_account_id();
	let commitment = chain.execute(|| Naming::commitment_of(label.as_bytes(), &owner, &SECRET));
	run(chain, who, pallet_naming::Call::commit { commitment }).unwrap();
	run(
		chain,
		who,
		pallet_naming::Call::register {
			label: label.as_bytes().to_vec(),
			owner,
			secret: SECRET,
			years: 1,
		},
	)
	.unwrap();
}

fn a_records(values: &[[u8; 4]]) -> RecordValues<Runtime> {
	RecordValues::<Runtime>::truncate_from(
		values
			.iter()
			.map(|v| RecordValue::<Runtime>::truncate_from(v.to_vec()))
			.collect(),
	)
}

#[test]
fn a_name_is_paid_with_burn_resolved_and_expires() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let alice: AccountId = Alice.to_account_id();
	let (issuance, treasury, alice_before) =
		chain.execute(|| (total_issuance(), free(&TreasuryAccount::get()), free(&alice)));

	register(&mut chain, Alice, "alice");
	let events = naming_events(&mut chain);
	let name = namehash(b"alice.dsync").unwrap();
	let expires = match events.as_slice() {
		[NamingEvent::NameRegistered { name: n, owner, cost, expires, .. }] => {
			assert_eq!((*n, owner), (name, &alice));
			// A 5-letter label: 5 DSYNC for a year.
			assert_eq!(*cost, 5 * DSYNC);
			*expires
		},
		other => panic!("unexpected events {other:?}"),
	};
	chain.execute(|| {
		// Half the rent burned, half to the treasury (the naming split of the preset); fees
		// are paid too, so the issuance fell by at least the burn.
		assert!(total_issuance() <= issuance - 5 * DSYNC / 2);
		assert!(free(&TreasuryAccount::get()) >= treasury + 5 * DSYNC / 2);
		assert!(alice_before - free(&alice) >= 5 * DSYNC);
	});

	run(
		&mut chain,
		Alice,
		pallet_naming::Call::set_records {
			name,
			kind: RecordKind::A,
			values: a_records(&[[192, 0, 2, 1], [192, 0, 2, 2]]),
		},
	)
	.unwrap();
	// Bob cannot touch Alice's records.
	assert_eq!(
		run(
			&mut chain,
			Bob,
			pallet_naming::Call::set_records {
				name,
				kind: RecordKind::A,
				values: a_records(&[[10, 0, 0, 1]]),
			},
		),
		Err(pallet_naming::Error::<Runtime>::NotOwner.into())
	);

	chain.execute(|| {
		let records = <Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::records(
			b"alice.dsync".to_vec(),
		)
		.unwrap();
		assert_eq!(
			records.records,
			vec![(RecordKind::A, vec![192, 0, 2, 1]), (RecordKind::A, vec![192, 0, 2, 2])]
		);
		let view = <Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::name(
			b"alice.dsync".to_vec(),
		)
		.unwrap();
		assert_eq!((view.owner, view.expires, view.live), (alice.clone(), expires, true));
		assert_eq!(
			<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::price(
				b"alice".to_vec(),
				1
			),
			None
		);
		assert_eq!(
			<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::price(
				b"bobby".to_vec(),
				2
			),
			Some(10 * DSYNC)
		);
		// Reserved by the preset.
		assert_eq!(
			<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::price(
				b"ns1".to_vec(),
				1
			),
			None
		);
	});

	// The development year is 20 blocks: after it the name no longer resolves.
	while chain.execute(System::block_number) <= expires {
		chain.next_block(vec![]);
	}
	chain.execute(|| {
		assert_eq!(
			<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::records(
				b"alice.dsync".to_vec()
			),
			None
		);
		assert!(
			!<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::name(
				b"alice.dsync".to_vec()
			)
			.unwrap()
			.live
		);
	});
	// In grace, Alice renews and the records are back.
	run(&mut chain, Alice, pallet_naming::Call::renew { name, years: 1 }).unwrap();
	chain.execute(|| {
		assert!(<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::records(
			b"alice.dsync".to_vec()
		)
		.is_some());
	});
}

/// Service labels through signed transactions. Attack: Bob squats `_dmarc` as a registered name
/// (mail checks read `_dmarc.<domain>` names; a top-level `_dmarc.dsync` would pass for the
/// zone's own policy): refused, nothing registered. The
/// owner of `alice.dsync` publishes her DMARC policy under `_dmarc.alice.dsync`, which resolves.
#[test]
fn service_labels_name_subnames_only() {
	let mut chain = TestChain::new(DEVELOPMENT);
	let bob: AccountId = Bob.to_account_id();
	let commitment = chain.execute(|| Naming::commitment_of(b"_dmarc", &bob, &SECRET));
	run(&mut chain, Bob, pallet_naming::Call::commit { commitment }).unwrap();
	let squat = pallet_naming::Call::register {
		label: b"_dmarc".to_vec(),
		owner: bob,
		secret: SECRET,
		years: 1,
	};
	assert_eq!(
		run(&mut chain, Bob, squat),
		Err(pallet_naming::Error::<Runtime>::InvalidLabel.into())
	);
	chain.execute(|| {
		assert!(<Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::name(
			b"_dmarc.dsync".to_vec()
		)
		.is_none());
	});

	register(&mut chain, Alice, "alice");
	let alice = Alice.to_account_id();
	let parent = namehash(b"alice.dsync").unwrap();
	let set_subname =
		pallet_naming::Call::set_subname { parent, label: b"_dmarc".to_vec(), owner: alice };
	run(&mut chain, Alice, set_subname).unwrap();
	let policy = RecordValue::<Runtime>::truncate_from(b"v=DMARC1; p=none".to_vec());
	run(
		&mut chain,
		Alice,
		pallet_naming::Call::set_records {
			name: namehash(b"_dmarc.alice.dsync").unwrap(),
			kind: RecordKind::Txt,
			values: RecordValues::<Runtime>::truncate_from(vec![policy]),
		},
	)
	.unwrap();
	chain.execute(|| {
		let records = <Runtime as NamingApiV1<Block, AccountId, Balance, BlockNumber>>::records(
			b"_dmarc.alice.dsync".to_vec(),
		)
		.expect("the subname resolves");
		assert_eq!(records.records, vec![(RecordKind::Txt, b"v=DMARC1; p=none".to_vec())]);
	});
}
