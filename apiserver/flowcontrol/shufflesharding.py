"""Shuffle sharding (k8s.io/apiserver/pkg/util/shufflesharding): a flow's hash deals it a hand of
distinct queues out of a deck, the same hand every time. Two flows rarely share their whole hand,
so one heavy flow fills its own queues and seldom all of another's."""

from __future__ import annotations

import hashlib

from podplane.apimachinery.flowcontrol import MAX_HASH_BITS, required_entropy_bits


class Dealer:
    def __init__(self, deck_size: int, hand_size: int) -> None:
        if deck_size <= 0 or hand_size <= 0:
            raise ValueError(f"deck size {deck_size} and hand size {hand_size} must be positive")
        if hand_size > deck_size:
            raise ValueError(f"hand size {hand_size} is greater than deck size {deck_size}")
        if required_entropy_bits(deck_size, hand_size) > MAX_HASH_BITS:
            raise ValueError(
                f"deck size {deck_size} and hand size {hand_size} need more than "
                f"{MAX_HASH_BITS} bits of hash"
            )
        self.deck_size = deck_size
        self.hand_size = hand_size

    def deal(self, hash_value: int) -> list[int]:
        """The hand: `hand_size` distinct cards in [0, deck_size). Each card is a remainder of the
        hash in a mixed radix (deck_size, deck_size - 1, ...), then shifted past the cards
        already dealt, so that no card repeats."""
        remainders = []
        for i in range(self.hand_size):
            hash_value, remainder = divmod(hash_value, self.deck_size - i)
            remainders.append(remainder)
        hand = []
        for i, card in enumerate(remainders):
            for j in range(i, 0, -1):
                if card >= remainders[j - 1]:
                    card += 1
            hand.append(card)
        return hand


def hash_flow(flow_schema: str, distinguisher: str) -> int:
    """A flow's identity as 64 bits: the first 8 bytes, little-endian, of SHA-256 over the schema's
    name, a zero byte and the distinguisher (apf_controller.go hashFlowID)."""
    digest = hashlib.sha256(f"{flow_schema}\0{distinguisher}".encode()).digest()
    return int.from_bytes(digest[:8], "little")
