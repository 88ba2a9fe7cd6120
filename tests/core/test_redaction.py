"""Keys never leave the process: redaction of headers, text, trees, written fixtures and logs.

The rules (README "Guarantees", ARCHITECTURE "Keys", facedetect_contract/core/redaction.py): a key is
held in a ``Secret`` that never shows itself; every text that leaves the process is redacted: the
key in any letter case, any run of 8 or more of its characters (a key cut short or glued to
text), its base64 and URL-safe base64 forms (of the key and of ``Bearer <key>``), its hex and
percent-encoded forms, and key-like text with no key configured (``sk-...``, ``Bearer ...``);
credential headers lose their value (``Authorization`` keeps its scheme); a redacted JSON tree is
its original with only the key replaced; every log record is redacted while a run holds a key.

The keys here are sentinels of several shapes (never a real key); ``assert_no_leak`` names the
forms that leaked, not the text that holds them.
"""

from __future__ import annotations

import ast
import base64
import binascii
import copy
import hashlib
import html
import json
import logging
import pickle
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from facedetect_contract.contracts.fixtures import (
    FIXTURE_DIR,
    dump_fixture,
    load_fixtures,
    write_fixture,
)
from facedetect_contract.contracts.loader import key_from_env, load_contracts
from facedetect_contract.core.redaction import (
    MAX_KEY_LENGTH,
    MIN_RUN,
    REDACTED,
    Redactor,
    Secret,
    key_problem,
    mask_credentials,
    redact_headers,
    redact_log_records,
    redact_text,
    redact_tree,
)

CONTRACTS = load_contracts()

# Not "sk-..." on purpose: the generic key pattern must not be what hides it.
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"

# Keys of several shapes; the generic patterns hide none of them but the first.
KEYS = {
    "dashscope": "sk-" + "0f3c9a7e" * 4,  # 'sk-' and 32 hex characters
    "gateway": SENTINEL,
    "long-hex": hashlib.sha256(b"facedetect-sentinel").hexdigest(),  # 64 hex characters
    "url-unsafe": "k~e_y.S+E/N=T-1N3L!42:sentinel",  # '/', '+', '=', '!', ':' and '~'
    "base64-unsafe": "~~~???>>>~~~???>>>:sentinel",  # its base64 forms hold '+' and '/'
    "short": "Sh0rtK3y",  # MIN_RUN (8) characters, the shortest key accepted
    "repeating": "000000000-tail-sentinel-A1-sentinel-B2",  # its 8-grams recur in it
}
SHAPES = list(KEYS)


# --- the oracle: does any form of the key survive in a text? ---------------------------------


def _holds_a_run(decoded: str, key: str) -> bool:
    """Whether ``decoded`` holds MIN_RUN or more consecutive characters of ``key`` (any case)."""
    lowered, low_key = decoded.lower(), key.lower()
    return any(low_key[i : i + MIN_RUN] in lowered for i in range(len(low_key) - MIN_RUN + 1))


def _runs_of(text: str, alphabet: str) -> Iterator[str]:
    run = ""
    for char in text + "\0":
        if char in alphabet:
            run += char
        elif run:
            yield run
            run = ""


HEX = "0123456789abcdefABCDEF"
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"


def leaks(text: str, key: str) -> list[str]:
    """The forms in which ``text`` still holds 8 or more characters of ``key``: decoded by an
    independent reading (every hex and base64 run at every alignment, percent-decoding)."""
    found = set()
    if _holds_a_run(text, key):
        found.add("plain")
    if _holds_a_run(unquote(text), key):
        found.add("percent-encoded")
    for run in _runs_of(text, HEX):
        for shift in (0, 1):
            chunk = run[shift:]
            chunk = chunk[: len(chunk) // 2 * 2]
            if _holds_a_run(bytes.fromhex(chunk).decode("latin-1"), key):
                found.add("hex")
    for run in _runs_of(text, BASE64):
        standard = run.replace("-", "+").replace("_", "/")
        for shift in range(4):
            chunk = standard[shift:]
            chunk = chunk[: len(chunk) // 4 * 4]
            if _holds_a_run(base64.b64decode(chunk).decode("latin-1"), key):
                found.add("base64")
    return sorted(found)


def assert_no_leak(text: str, key: str, where: object = "") -> None:
    found = leaks(text, key)
    assert not found, (where, found)


def test_the_oracle_sees_every_form_it_is_asked_about() -> None:
    """The oracle itself: each encoding of a key is seen, and ordinary text is not."""
    key = "k/e+y=s?e&n%t#1!"  # no 8 of its characters stay together when percent-encoded
    assert leaks(f"x {key[3:12]} y", key) == ["percent-encoded", "plain"]
    assert leaks(quote(key, safe=""), key) == ["percent-encoded"]
    assert leaks(binascii.hexlify(key.encode()).decode().upper(), key) == ["hex"]
    assert leaks("=" + base64.urlsafe_b64encode(b".." + key.encode()).decode(), key) == ["base64"]
    assert leaks(f"x {key[:7]} {REDACTED} {key[-7:]} y", key) == []


# --- Secret ------------------------------------------------------------------------------------


def test_credential_headers_keep_their_scheme_but_lose_their_value() -> None:
    cleaned = redact_headers(
        {"Authorization": f"Bearer {SENTINEL}", "X-Api-Key": SENTINEL, "Accept": "json"}
    )
    assert cleaned == {
        "authorization": "Bearer <redacted>",
        "x-api-key": "<redacted>",
        "accept": "json",
    }


def test_placeholders_survive_redaction() -> None:
    assert redact_headers({"authorization": "Bearer <invalid>"}) == {
        "authorization": "Bearer <invalid>"
    }


@pytest.mark.parametrize(
    "text",
    [
        f"key {SENTINEL} here",
        f'"Authorization": "Bearer {SENTINEL}"',
        "bearer abc.def-ghi",
        "sk-0123456789abcdef",
    ],
)
def test_key_like_text_is_redacted(text: str) -> None:
    assert "<redacted>" in redact_text(text, [SENTINEL])
    assert SENTINEL not in redact_text(text, [SENTINEL])


def test_an_empty_or_padded_key_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="bare key"):
        Secret(" sk-x ")
    assert Secret.from_env({"DASHSCOPE_API_KEY": "  "}, name="DASHSCOPE_API_KEY") is None


def test_a_written_fixture_holds_no_key_even_when_a_response_echoes_it(tmp_path: Path) -> None:
    fixture = load_fixtures(FIXTURE_DIR, CONTRACTS)[0]
    data = fixture.to_dict()
    data["response"]["body"]["message"] = f"your key {SENTINEL} is fine"
    echoed = type(fixture).from_dict(data)
    path = write_fixture(echoed, tmp_path, [Secret(SENTINEL)])
    text = path.read_text()
    assert SENTINEL not in text
    assert json.loads(text)["response"]["body"]["message"] == "your key <redacted> is fine"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temp file left behind"


def test_a_secret_never_shows_its_value() -> None:
    secret = Secret(SENTINEL)
    assert SENTINEL not in f"{secret} {secret!r} {secret:>80}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == SENTINEL


@pytest.mark.parametrize("shape", SHAPES)
def test_a_secret_shows_itself_as_redacted_in_every_rendering(shape: str) -> None:
    """No repr, no str, no format spec, no %-formatting shows the key: only Secret(<redacted>)."""
    secret = Secret(KEYS[shape])
    shown = "Secret(<redacted>)"
    assert repr(secret) == str(secret) == f"{secret}" == f"{secret!s}" == shown
    assert f"{secret!r}" == format(secret, ">80") == f"{secret:x<5}" == shown
    assert "%s %r" % (secret, secret) == f"{shown} {shown}"  # noqa: UP031  # the old way too
    assert [secret] == [Secret(KEYS[shape])]
    assert_no_leak(f"{[secret]} { ({'k': secret})!r} {(secret,)}", KEYS[shape])


def test_a_secret_cannot_be_pickled_or_copied_into_a_file() -> None:
    with pytest.raises(TypeError, match=r"^a Secret cannot be pickled$"):
        pickle.dumps(Secret(SENTINEL))
    with pytest.raises(TypeError, match=r"^a Secret cannot be pickled$"):
        copy.copy(Secret(SENTINEL))


def test_secrets_are_equal_exactly_when_their_keys_are() -> None:
    """Equality by value, so a key configured twice is one key; never equal to the bare text."""
    secret = Secret(SENTINEL)
    assert secret == Secret(SENTINEL)
    assert secret != Secret(SENTINEL.upper())
    assert secret != SENTINEL  # a Secret is never its bare text
    assert SENTINEL != secret  # noqa: SIM300  # the reflected comparison too
    assert hash(secret) == hash(Secret(SENTINEL))
    assert {secret: 1}[Secret(SENTINEL)] == 1
    # Distinct keys hash apart (a collision of these two fixed values is ~2**-61 unlikely).
    assert hash(Secret(KEYS["gateway"])) != hash(Secret(KEYS["dashscope"]))
    assert len({secret, Secret(SENTINEL), Secret(KEYS["short"])}) == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "the API key is empty or has surrounding whitespace; set the bare key"),
        (" " + SENTINEL, "the API key is empty or has surrounding whitespace; set the bare key"),
        (SENTINEL + "\n", "the API key is empty or has surrounding whitespace; set the bare key"),
        (
            "gwkey SENTINEL",
            "the API key holds a character that is not printable ASCII (a space, a newline, "
            "a non-ASCII letter): HTTP cannot send it in a header; set the key as issued",
        ),
        (
            "gwkey-SENTINEL-\x7f",
            "the API key holds a character that is not printable ASCII (a space, a newline, "
            "a non-ASCII letter): HTTP cannot send it in a header; set the key as issued",
        ),
        (
            "gwkey-SENTINEL-é",
            "the API key holds a character that is not printable ASCII (a space, a newline, "
            "a non-ASCII letter): HTTP cannot send it in a header; set the key as issued",
        ),
        (
            "Sh0rtK3",
            "the API key is 7 characters long; a key of 8 to 4096 characters is expected: "
            "check what the variable holds",
        ),
        (
            "k" * (MAX_KEY_LENGTH + 1),
            "the API key is 4097 characters long; a key of 8 to 4096 characters is expected: "
            "check what the variable holds",
        ),
    ],
    ids=[
        "empty",
        "leading-space",
        "trailing-newline",
        "inner-space",
        "control-character",
        "non-ascii",
        "7-characters",
        "4097-characters",
    ],
)
def test_a_malformed_key_is_refused_with_the_fix_and_without_its_value(
    value: str, message: str
) -> None:
    """HTTP carries 8 to 4096 printable ASCII characters, bare; the message says how to fix it
    and never repeats the key."""
    with pytest.raises(ValueError) as raised:  # noqa: PT011  # the whole message is compared
        Secret(value)
    assert str(raised.value) == message
    if value.strip():
        assert_no_leak(str(raised.value), value.strip())


@pytest.mark.parametrize(
    "value",
    ["!" * 8, "~" * 8, "Sh0rtK3y", "k" * MAX_KEY_LENGTH, *KEYS.values()],
    ids=["bangs", "tildes", "8-characters", "4096-characters", *SHAPES],
)
def test_a_key_of_printable_ascii_from_8_to_4096_characters_is_accepted(value: str) -> None:
    """The bounds are inclusive: '!' and '~' are printable ASCII, 8 and 4096 are allowed."""
    assert Secret(value).reveal() == value


def test_the_key_comes_from_the_profiles_variable_bare() -> None:
    """endpoint.json names DASHSCOPE_API_KEY; surrounding whitespace is dropped, an empty or
    unset variable is no key."""
    assert Secret.from_env({"DASHSCOPE_API_KEY": SENTINEL}, name="DASHSCOPE_API_KEY") == Secret(
        SENTINEL
    )
    assert Secret.from_env(
        {"DASHSCOPE_API_KEY": f"  {SENTINEL}\n"}, name="DASHSCOPE_API_KEY"
    ) == Secret(SENTINEL)
    assert Secret.from_env({}, name="DASHSCOPE_API_KEY") is None
    assert Secret.from_env({"DASHSCOPE_API_KEY": ""}, name="DASHSCOPE_API_KEY") is None
    assert Secret.from_env({"OTHER_KEY": SENTINEL}, name="DASHSCOPE_API_KEY") is None


def test_the_key_variable_can_be_renamed() -> None:
    environ = {"STUB_KEY": SENTINEL, "DASHSCOPE_API_KEY": KEYS["short"]}
    assert Secret.from_env(environ, name="STUB_KEY") == Secret(SENTINEL)
    assert Secret.from_env({"DASHSCOPE_API_KEY": SENTINEL}, name="STUB_KEY") is None


def test_the_key_is_read_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", SENTINEL)
    assert key_from_env(None, CONTRACTS) == Secret(SENTINEL)
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    assert key_from_env(None, CONTRACTS) is None


def test_a_malformed_key_variable_is_named_never_shown() -> None:
    with pytest.raises(ValueError) as raised:  # noqa: PT011  # the whole message is compared
        Secret.from_env({"DASHSCOPE_API_KEY": "gwkey SENTINEL"}, name="DASHSCOPE_API_KEY")
    assert str(raised.value) == (
        "DASHSCOPE_API_KEY: the API key holds a character that is not printable ASCII (a space, "
        "a newline, a non-ASCII letter): HTTP cannot send it in a header; set the key as issued"
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    with pytest.raises(ValueError, match=r"^STUB_KEY: the API key is 5 characters long"):
        Secret.from_env({"STUB_KEY": "short"}, name="STUB_KEY")


# --- text --------------------------------------------------------------------------------------

# redact_text keeps a Redactor per tuple of keys; the tests of a key's forms build their own
# Redactor too, so that each one runs the building of the forms it checks.


def _alternating(key: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(key))


CASES: dict[str, Callable[[str], str]] = {
    "as is": lambda key: key,
    "upper-cased": str.upper,
    "lower-cased": str.lower,
    "case swapped": str.swapcase,
    "alternating case": _alternating,
    "percent-encoded": lambda key: quote(key, safe=""),
    "percent-encoded, lower-case escapes": lambda key: quote(key, safe="").lower(),
    "hex": lambda key: binascii.hexlify(key.encode()).decode(),
    "hex, upper-case": lambda key: binascii.hexlify(key.encode()).decode().upper(),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", list(CASES))
def test_the_key_in_any_case_hex_or_percent_encoded_is_replaced_and_nothing_else(
    form: str, shape: str
) -> None:
    key = KEYS[shape]
    text = f'before "{CASES[form](key)}", after'
    assert redact_text(text, [key]) == f'before "{REDACTED}", after'
    assert redact_text(text, [Secret(key)]) == f'before "{REDACTED}", after'


@pytest.mark.parametrize("shape", SHAPES)
def test_the_key_glued_to_text_is_replaced_and_the_text_kept(shape: str) -> None:
    key = KEYS[shape]
    assert redact_text(f"abc{key}xyz", [key]) == f"abc{REDACTED}xyz"
    assert redact_text(f"Bearer{key}", [key]) == f"Bearer{REDACTED}"
    assert redact_text(f"{key}{key.upper()}", [key]) == REDACTED + REDACTED
    assert redact_text(f"{key} and {key}.", [key]) == f"{REDACTED} and {REDACTED}."
    assert redact_text(f"https://gw.example/?key={key}&a=1", [key]) == (
        f"https://gw.example/?key={REDACTED}&a=1"
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_every_run_of_8_or_more_of_the_keys_characters_is_replaced(shape: str) -> None:
    """A key cut at any point, from either end or inside, loses every run of MIN_RUN or more."""
    key = KEYS[shape]
    redactor = Redactor([key])
    for n in range(MIN_RUN, len(key) + 1):
        for cut in {key[:n], key[-n:], key[1 : n + 1] if n < len(key) else key}:
            assert redactor.text(f"({cut})") == f"({REDACTED})", (shape, n)
            assert redactor.text(f"({cut.upper()})") == f"({REDACTED})", (shape, n)
            assert redact_text(f"({cut})", [key]) == f"({REDACTED})", (shape, n)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_key_cut_off_by_the_end_or_start_of_the_text_is_replaced_to_the_edge(shape: str) -> None:
    """Runs of MIN_RUN or more, at the text's very edge: an echo truncated inside the key ends
    the text with a run of it (or starts with one); the run is replaced up to the edge, and the
    text before (after) it is kept."""
    key = KEYS[shape]
    redactor = Redactor([key])
    for n in range(MIN_RUN, len(key) + 1):
        head, tail = key[:n], key[-n:]
        assert redactor.text(f"echo: {head}") == f"echo: {REDACTED}", (shape, n)
        assert redactor.text(head.upper()) == REDACTED, (shape, n)
        assert redactor.text(f"{tail} :echo") == f"{REDACTED} :echo", (shape, n)
        assert redactor.text(tail) == REDACTED, (shape, n)


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "dashscope"])
def test_a_run_shorter_than_8_characters_is_ordinary_text(shape: str) -> None:
    """MIN_RUN: shorter runs occur in ordinary text, so they are kept."""
    key = KEYS[shape]
    redactor = Redactor([key])
    for cut in (key[: MIN_RUN - 1], key[-(MIN_RUN - 1) :], key[2 : MIN_RUN + 1]):
        assert redactor.text(f"({cut})") == f"({cut})"
        assert redactor.text(cut) == cut  # at the text's edges too
        assert redact_text(f"({cut})", [key]) == f"({cut})"


def test_a_run_is_followed_wherever_its_first_8_characters_recur_in_the_key() -> None:
    """The key "000000000-tail-sentinel-A1-sentinel-B2": a run that starts where the key's
    8-gram recurs (one character on, or much later) is replaced to its very end."""
    key = KEYS["repeating"]
    redactor = Redactor([key])
    for run in ("00000000-tail", "sentinel-A1", "sentinel-B2", "0-tail-sentinel-A1-sentinel"):
        assert redactor.text(f"[{run}]") == f"[{REDACTED}]", run
        assert redact_text(f"[{run}]", [key]) == f"[{REDACTED}]", run


def test_a_run_is_followed_from_every_place_its_first_8_characters_occur_in_the_key() -> None:
    """The 8-gram 'sentinel' occurs three times in this key, each time followed by other text:
    a run starting at any of the three (the middle one too) is replaced whole, nothing of it
    left beside the <redacted>."""
    key = "sentinel-a1.sentinel-b2.sentinel-c3"
    assert [i for i in range(len(key)) if key.startswith("sentinel", i)] == [0, 12, 24]
    redactor = Redactor([key])
    for run in ("sentinel-a1.", "sentinel-b2.", "sentinel-c3", "sentinel-b2.sentinel-c"):
        assert redactor.text(f"[{run}]") == f"[{REDACTED}]", run
        assert redactor.text(f"[{run.upper()}]") == f"[{REDACTED}]", run


def _b64_expected(prefix: bytes, secret: bytes, suffix: bytes, encode: Any) -> str:
    """What redaction leaves of ``encode(prefix + secret + suffix)``: the 4-character groups
    that encode bytes of ``secret`` only (at least MIN_RUN characters of them) become one
    <redacted>; the groups shared with the bytes around stay as they are."""
    encoded: str = encode(prefix + secret + suffix).decode()
    first = -(-len(prefix) // 3)  # the first group that starts at or after the secret's start
    last = (len(prefix) + len(secret)) // 3  # the groups before this one end inside it
    if 4 * (last - first) < MIN_RUN:
        return encoded
    return encoded[: 4 * first] + REDACTED + encoded[4 * last :]


ENCODERS = {"base64": base64.b64encode, "url-safe base64": base64.urlsafe_b64encode}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", list(ENCODERS))
@pytest.mark.parametrize("bearer", [False, True], ids=["key", "Bearer key"])
def test_the_base64_forms_of_the_key_and_of_bearer_key_are_replaced_at_any_alignment(
    bearer: bool, encoding: str, shape: str
) -> None:
    """base64 maps 3 bytes to 4 characters, so text before the key shifts its encoding: at
    every alignment, every group of the key's own bytes is replaced, the groups it shares with
    the text around are kept."""
    key = KEYS[shape]
    redactor = Redactor([key])
    secret = (f"Bearer {key}" if bearer else key).encode()
    encode = ENCODERS[encoding]
    for prefix in (b"", b".", b"..", b"...", b"\x00\x01\xfe\xff", b"#prefix:"):
        for suffix in (b"", b"!", b"?!"):
            encoded = encode(prefix + secret + suffix).decode()
            redacted = redactor.text(f"echo {encoded} end")
            assert redact_text(f"echo {encoded} end", [key]) == redacted
            expected = _b64_expected(prefix, secret, suffix, encode)
            assert redacted == f"echo {expected} end", (len(prefix), len(suffix))
            assert_no_leak(redacted, key, (len(prefix), len(suffix)))


def test_the_base64_of_a_short_key_is_replaced_at_each_byte_offset_in_both_alphabets() -> None:
    """At each of the 3 byte offsets (mod 3) of the key inside the encoded bytes, in standard
    and in URL-safe base64, the groups of the key's own bytes are replaced, even when they are
    only MIN_RUN characters (the shortest that is redacted). The keys, cut from '~~~???>>>~~~',
    encode to text full of '+' and '/' (standard) or '-' and '_' (URL-safe), so neither
    alphabet's form is the other's."""
    cases = shortest = unsafe = 0
    for length in range(MIN_RUN, MIN_RUN + 4):
        key = "~~~???>>>~~~"[:length]
        redactor = Redactor([key])
        for offset in range(3):
            for prefix in (
                b"\0" * offset,
                b"\xff" * offset,
                b"pq"[:offset],
                b"xyz#!"[: 3 + offset],
            ):
                for encode in ENCODERS.values():
                    encoded = encode(prefix + key.encode() + b"?").decode()
                    expected = _b64_expected(prefix, key.encode(), b"?", encode)
                    where = (length, offset, prefix)
                    assert redactor.text(f"[{encoded}]") == f"[{expected}]", where
                    assert_no_leak(redactor.text(encoded), key, where)
                    own = encoded[4 * -(-len(prefix) // 3) : 4 * ((len(prefix) + length) // 3)]
                    cases += 1
                    shortest += len(own) == MIN_RUN
                    unsafe += bool(set(own) & set("+/-_"))
    assert shortest >= cases // 4, "too few cases left exactly MIN_RUN characters of the key's own"
    assert unsafe == cases, "a form held no alphabet-specific character"


def test_the_keys_standard_and_url_safe_base64_differ_so_both_are_needed() -> None:
    """The premise of the test above: for this shape the two alphabets give different text."""
    key = KEYS["base64-unsafe"].encode()
    for prefix in (b"", b".", b".."):
        standard, safe = base64.b64encode(prefix + key), base64.urlsafe_b64encode(prefix + key)
        assert standard[4:-4] != safe[4:-4], len(prefix)


def test_several_keys_are_redacted_in_every_form_each() -> None:
    """Each configured key (an old one and a new one, say) is redacted in all its forms."""
    first, second = KEYS["gateway"], KEYS["url-unsafe"]
    redactor = Redactor([first, second])
    for key in (first, second):
        for form in CASES.values():
            assert redactor.text(f"<{form(key)}>") == f"<{REDACTED}>"
        encoded = base64.b64encode(b"." + key.encode()).decode()
        assert_no_leak(redactor.text(encoded), key)
    assert redactor.text(f"{first}{second}") == REDACTED + REDACTED


def test_a_whole_form_wins_over_a_shorter_one_inside_it() -> None:
    """Longest first: with two keys, one an extension of the other in another case, the longer
    key's encoded form is replaced whole, not the shorter key's form at its start."""
    old, new = "gwkey/sentinel", "GWKEY/SENTINEL/v2"
    for secrets in ([old, new], [new, old]):
        assert redact_text(quote(new, safe=""), secrets) == REDACTED
        assert redact_text(quote(old, safe=""), secrets) == REDACTED


def test_a_percent_encoded_key_is_replaced_whole_even_when_a_run_of_it_is_unencoded() -> None:
    """The key's percent form is replaced as a whole; a run of 8 plain characters inside it
    (here 'AAAAAAAA' and 'sentinel') must not cut it first and leave the rest behind."""
    for key in ("AAAAAAAA/bcdefgh/ijklmno/pqrstuv", KEYS["url-unsafe"]):
        assert redact_text(f"x {quote(key, safe='')} y", [key]) == f"x {REDACTED} y"


def test_the_text_around_a_key_survives_exactly() -> None:
    key = KEYS["gateway"]
    text = f"line 1\n\t{key}: 'quoted' \"double\" <tag> ünïcødé {key[:5]}"
    assert redact_text(text, [key]) == (
        f"line 1\n\t{REDACTED}: 'quoted' \"double\" <tag> ünïcødé {key[:5]}"
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("sk-0123456789abcdef", REDACTED),
        ("SK-0123456789ABCDEF and more", f"{REDACTED} and more"),
        ("(sk-0123456789_-abc)", f"({REDACTED})"),
        ("Bearer abc.def-ghi", f"Bearer {REDACTED}"),
        ("bearer abc.def-ghi", f"Bearer {REDACTED}"),
        ("BEARER\tabc", f"Bearer {REDACTED}"),
        ('"Authorization": "Bearer tok3n"', f'"Authorization": "Bearer {REDACTED}"'),
        ("Bearer <invalid>", "Bearer <invalid>"),  # a placeholder, not a token
        ("task-0123456789abcdef", "task-0123456789abcdef"),  # 'sk-' inside a word
        ("sk-0123456", "sk-0123456"),  # too short to be a key
        ("Bearer", "Bearer"),
        ("plain text, no key", "plain text, no key"),
        ("", ""),
    ],
)
def test_key_like_text_is_redacted_with_no_key_configured(text: str, redacted: str) -> None:
    """DashScope keys ('sk-' and more) and bearer tokens, with nothing configured to match."""
    assert redact_text(text) == redacted
    assert redact_text(text, [None]) == redacted
    assert Redactor().text(text) == redacted


def test_keys_shorter_than_8_characters_empty_or_missing_are_not_matched() -> None:
    """A value too short to be a key would redact ordinary text (its hex form too)."""
    redactor = Redactor([None, "", "short", KEYS["gateway"], KEYS["gateway"]])
    assert repr(redactor) == "Redactor(keys=1)"
    text = f"a short word, {binascii.hexlify(b'short').decode()}, {quote('short')}"
    assert redactor.text(text) == text
    assert redact_text(text, ["short", None]) == text


def test_a_redactor_shows_how_many_keys_it_holds_never_which() -> None:
    redactor = Redactor([Secret(KEYS["gateway"]), KEYS["url-unsafe"], KEYS["short"]])
    assert repr(redactor) == "Redactor(keys=3)"
    assert repr(Redactor()) == "Redactor(keys=0)"


# --- trees and fixtures -----------------------------------------------------------------------


def _planted(data: dict[str, Any], value: str) -> dict[str, Any]:
    """``data`` with ``value`` planted where an echo can put it: a message, a header, a list, a
    nested object's key and value, a provenance note; every other value (lists of boxes,
    counts, booleans, null) stays."""
    planted = copy.deepcopy(data)
    planted["provenance"]["note"] = f"recorded with {value}"
    planted["request"]["headers"]["x-echo"] = f"Bearer {value}"
    planted["response"]["headers"][f"x-key-{value}"] = value
    body = planted["response"]["body"]
    if isinstance(body, dict):
        body["echo"] = [1, 2.5, True, False, None, value, {value: [value, 0]}]
        body["note"] = f"abc{value}xyz"
    else:
        planted["response"]["body"] = f"{body} {value}"
    return planted


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # tells true from 1, and 1 from 1.0


@pytest.mark.parametrize("shape", SHAPES)
def test_a_redacted_fixture_is_its_original_but_for_the_key(shape: str) -> None:
    """Round trip: every packaged fixture, a key planted in it, redacted, equals the fixture
    with <redacted> planted instead: every box, count, flag and text kept, only the key gone."""
    key = KEYS[shape]
    fixtures = load_fixtures(FIXTURE_DIR, CONTRACTS)
    assert len(fixtures) >= 10
    for fixture in fixtures:
        original = fixture.to_dict()
        assert _json(redact_tree(original, [key])) == _json(original), fixture.name
        redacted = redact_tree(_planted(original, key), [Secret(key)])
        assert _json(redacted) == _json(_planted(original, REDACTED)), fixture.name
        written = json.loads(dump_fixture(_planted(original, key), [Secret(key)]))
        assert written == _planted(original, REDACTED), fixture.name
        assert_no_leak(dump_fixture(_planted(original, key), [key]), key, fixture.name)


def test_a_redacted_tree_keeps_every_json_type_and_copies_it() -> None:
    key = KEYS["gateway"]
    tree = {"a": [1, 2.5, True, None, ("t", key)], 7: key, "n": {"deep": [[key]]}}
    redacted = redact_tree(tree, [key])
    assert _json(redacted) == _json(
        {"a": [1, 2.5, True, None, ["t", REDACTED]], "7": REDACTED, "n": {"deep": [[REDACTED]]}}
    )
    assert isinstance(redacted["a"][4], list)  # a tuple becomes a JSON array
    assert tree["n"]["deep"] == [[key]]  # the original is left as it was
    assert redact_tree(key, [key]) == REDACTED
    assert redact_tree(3, [key]) == 3
    assert redact_tree(None, [key]) is None


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "cleaned"),
    [
        ("Authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"),
        ("AUTHORIZATION", "Token opaque-value", "Token <redacted>"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"),
        ("Authorization", "opaque-value-without-a-scheme", "<redacted>"),
        (
            "Authorization",
            'Digest username="bob", realm="gw", response="6629fae49393a05397450978507c4ef1"',
            "Digest <redacted>",
        ),
        ("X-Api-Key", "opaque value 123", "<redacted>"),
        ("Api-Key", "opaque-value-123", "<redacted>"),
        ("Cookie", "session=opaque123; theme=dark", "<redacted>"),
        ("Set-Cookie", "gw_session=opaque123; Path=/; HttpOnly", "<redacted>"),
    ],
)
def test_a_credential_header_loses_its_whole_value_only_authorization_keeps_its_scheme(
    name: str, value: str, cleaned: str
) -> None:
    """With no key configured and nothing key-like in it, a credential header's value is still
    a credential: Authorization keeps its scheme (RFC 9110 11.6.2: "<scheme> <credentials>"),
    every other credential header (a cookie's first word is a cookie) keeps nothing."""
    assert redact_headers({name: value}) == {name.lower(): cleaned}
    assert Redactor().headers([(name, value)]) == {name.lower(): cleaned}


@pytest.mark.parametrize("shape", SHAPES)
def test_headers_are_lower_cased_and_redacted_in_names_and_values(shape: str) -> None:
    key = KEYS[shape]
    pairs = [
        ("Authorization", f"Bearer {key}"),
        ("Authorization-Echo", f"{key} Bearer"),
        ("X-Echo", f"abc{key}xyz"),
        (f"X-Echo-{key}", "1"),
        ("Content-Type", "application/json"),
    ]
    expected = {
        "authorization": "Bearer <redacted>",
        "authorization-echo": f"{REDACTED} Bearer",
        "x-echo": f"abc{REDACTED}xyz",
        "x-echo-<redacted>": "1",
        "content-type": "application/json",
    }
    assert redact_headers(dict(pairs), [key]) == expected
    assert Redactor([key]).headers(pairs) == expected
    assert redact_headers({"Authorization": f"{key} trailing"}, [key]) == {
        "authorization": f"{REDACTED} {REDACTED}"
    }


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Basic\tdXNlcjpwYXNz", "Basic <redacted>"),
        ("Basic\tdXNlcjpwYXNz trailing", "Basic <redacted>"),
        ("Token\t\topaque-credential-123 x", "Token <redacted>"),
        ("Token \topaque-credential-123", "Token <redacted>"),
        (" Bearer opaque-token", "Bearer <redacted>"),
        ("opaque-credential-123 ", "<redacted>"),
        ("\topaque-credential-123", "<redacted>"),
        ("Bearer", "<redacted>"),
        ("", "<redacted>"),
    ],
)
def test_authorization_keeps_only_the_scheme_whatever_whitespace_follows_it(
    value: str, cleaned: str
) -> None:
    """Authorization keeps its scheme, the first word, and nothing of the credentials, whatever
    whitespace parts them (a tab is allowed in a field value): the scheme ends at the first
    whitespace. A lone word is all credential, surrounding whitespace or not."""
    for name in ("Authorization", "Proxy-Authorization"):
        assert redact_headers({name: value}) == {name.lower(): cleaned}, name
        assert Redactor().headers([(name, value)]) == {name.lower(): cleaned}, name
    assert redact_headers({"Authorization": f"Bearer\t{SENTINEL} x"}, [SENTINEL]) == {
        "authorization": "Bearer <redacted>"
    }


@pytest.mark.parametrize(
    "value", ["<invalid>", "Bearer <invalid>", "Bearer <none>", "Basic <redacted>"]
)
def test_a_placeholder_credential_is_kept_as_it_is(value: str) -> None:
    """A placeholder (what a fixture stores instead of a key) is not a credential."""
    assert redact_headers({"Authorization": value, "Cookie": value}) == {
        "authorization": value,
        "cookie": value,
    }
    assert redact_headers({"Authorization": "Bearer <sk-abc>"}) == {
        "authorization": "Bearer <redacted>"
    }


# --- log records -------------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, _Records]]:
    """A logger under httpcore (as the transport logs), its records kept; the record factory
    is restored afterwards whatever a test did to it."""
    original = logging.getLogRecordFactory()
    logger = logging.getLogger("httpcore.facedetect-test-redaction")
    handler = _Records()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(original)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_log_record_is_redacted_while_a_key_is_held(
    shape: str, captured: tuple[logging.Logger, _Records]
) -> None:
    logger, handler = captured
    key = KEYS[shape]
    uninstall = redact_log_records([Secret(key)])
    logger.debug("sent %s with %r", f"Bearer {key}", {"key": key})
    logger.warning(f"echoed {key.upper()}")
    uninstall()
    first, second = handler.records
    assert first.getMessage() == f"sent Bearer {REDACTED} with {{'key': '{REDACTED}'}}"
    assert first.args is None
    assert second.getMessage() == f"echoed {REDACTED}"
    for line in handler.lines:
        assert_no_leak(line, key)


def test_a_malformed_log_call_keeps_its_parts_redacted(
    captured: tuple[logging.Logger, _Records],
) -> None:
    logger, handler = captured
    uninstall = redact_log_records([SENTINEL])
    logger.warning("two %s %s but one", SENTINEL)  # noqa: PLE1206  # malformed on purpose
    uninstall()
    assert handler.records[0].getMessage() == f"'two %s %s but one' % ('{REDACTED}',)"


def test_a_logged_traceback_is_redacted_and_no_exception_is_left_to_render_again(
    captured: tuple[logging.Logger, _Records],
) -> None:
    logger, handler = captured
    uninstall = redact_log_records([SENTINEL])
    try:
        raise RuntimeError(f"the gateway said {SENTINEL}")
    except RuntimeError:
        logger.exception("failed with %s", SENTINEL)
    uninstall()
    record = handler.records[0]
    assert record.getMessage() == f"failed with {REDACTED}"
    assert record.exc_info is None  # the LogRecord contract for "no exception": None
    assert record.exc_text is not None
    assert f"RuntimeError: the gateway said {REDACTED}" in record.exc_text
    assert "Traceback (most recent call last)" in handler.lines[0]
    assert_no_leak(handler.lines[0], SENTINEL)


def test_a_logged_stack_is_redacted_and_kept(captured: tuple[logging.Logger, _Records]) -> None:
    logger, handler = captured
    uninstall = redact_log_records([SENTINEL])
    logger.info("where", stack_info=True)  # gwkey-SENTINEL-0123456789abcdef, on the stack
    uninstall()
    record = handler.records[0]
    assert record.stack_info is not None
    assert record.stack_info.startswith("Stack (most recent call last)")
    assert "test_a_logged_stack_is_redacted_and_kept" in record.stack_info
    assert REDACTED in record.stack_info
    assert_no_leak(record.stack_info, SENTINEL)


def test_the_record_factory_keeps_the_documented_signature(
    captured: tuple[logging.Logger, _Records],
) -> None:
    """logging's LogRecordFactory takes name, level, fn, lno, msg, args, exc_info and the
    keywords func and sinfo: called either way, it makes the record, redacted."""
    uninstall = redact_log_records([SENTINEL])
    factory = logging.getLogRecordFactory()
    record = factory(
        "n", logging.INFO, "f.py", 3, "key %s", (SENTINEL,), None, func="fn", sinfo=None
    )
    uninstall()
    assert (record.name, record.funcName, record.lineno) == ("n", "fn", 3)
    assert record.getMessage() == f"key {REDACTED}"


def test_uninstalling_restores_the_factory_it_replaced_and_only_its_own(
    captured: tuple[logging.Logger, _Records],
) -> None:
    original = logging.getLogRecordFactory()
    first = redact_log_records([SENTINEL])
    assert logging.getLogRecordFactory() is not original
    first()
    assert logging.getLogRecordFactory() is original
    outer = redact_log_records([SENTINEL])
    outer_factory = logging.getLogRecordFactory()
    inner = redact_log_records([KEYS["short"]])
    outer()  # not the current factory: leaves the newer one in place
    assert logging.getLogRecordFactory() is not outer_factory
    assert logging.getLogRecordFactory() is not original
    inner()
    assert logging.getLogRecordFactory() is outer_factory


# --- the key in the encodings an echo takes (issue 17) --------------------------------------
# Each is what a gateway, an error page or a log formatter writes: percent-encoding of every
# byte (either case, or encoded twice), HTML character references, JSON escapes left in text,
# fullwidth forms, a line wrapped inside the key, invisible characters between its characters.


def _percent(key: str, pattern: str = "%{:02X}") -> str:
    return "".join(pattern.format(byte) for byte in key.encode())


def _mixed(key: str) -> str:
    spelled = (lambda c: f"%{ord(c):02x}", lambda c: f"&#{ord(c)};", lambda c: c)
    return "".join(spelled[i % 3](char) for i, char in enumerate(key))


ENCODINGS: dict[str, Callable[[str], str]] = {
    "every byte percent-encoded, upper-case": _percent,
    "every byte percent-encoded, lower-case": lambda key: _percent(key, "%{:02x}"),
    "percent-encoded twice": lambda key: _percent(key, "%25{:02X}"),
    "HTML decimal references": lambda key: "".join(f"&#{ord(c)};" for c in key),
    "HTML decimal references, leading zeros": lambda key: "".join(f"&#00{ord(c)};" for c in key),
    "HTML hex references": lambda key: "".join(f"&#x{ord(c):x};" for c in key),
    "HTML hex references, upper-case X": lambda key: "".join(f"&#X{ord(c):04X};" for c in key),
    "HTML-escaped (&gt; and the like)": html.escape,
    "percent, references and letters mixed": _mixed,
    "JSON escapes in a text body": lambda key: "".join(f"\\u{ord(c):04x}" for c in key),
    "fullwidth forms": lambda key: "".join(chr(ord(c) + 0xFEE0) for c in key),
    "zero-width spaces between characters": "\u200b".join,
    "a line wrapped inside it": lambda key: f"{key[:5]}\n    {key[5:]}",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_url_safe_base64_without_padding_keeps_at_most_its_last_quantum(shape: str) -> None:
    """Its last 1 to 3 characters depend on what follows the key in the encoded text, so they
    are not part of the form matched; they hold less than 2 bytes of the key."""
    key = KEYS[shape]
    form = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
    redacted = redact_text(f"[{form}]", [key])
    assert redacted.startswith(f"[{REDACTED}") and len(redacted) - len(REDACTED) - 2 <= 3


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_the_key_in_every_encoding_an_echo_takes_is_replaced_whole_and_nothing_else(
    encoding: str, shape: str
) -> None:
    key = KEYS[shape]
    text = f'before "{ENCODINGS[encoding](key)}", after'
    assert redact_text(text, [key]) == f'before "{REDACTED}", after'
    tree = {"message": text, ENCODINGS[encoding](key): 1}
    assert redact_tree(tree, [Secret(key)]) == {
        "message": f'before "{REDACTED}", after',
        REDACTED: 1,
    }


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "encoding",
    [
        "every byte percent-encoded, lower-case",
        "HTML hex references",
        "percent, references and letters mixed",
        "fullwidth forms",
    ],
)
def test_a_run_of_eight_characters_of_the_key_is_replaced_in_an_encoding_too(
    encoding: str, shape: str
) -> None:
    key = KEYS[shape]
    part = key[len(key) - MIN_RUN :]  # the key cut short: its last 8 characters
    text = f"id={ENCODINGS[encoding](part)}&next=1"
    assert redact_text(text, [key]) == f"id={REDACTED}&next=1"


def test_encoded_text_that_holds_no_key_is_left_as_it_is() -> None:
    text = (
        "a%20b%2Fc &amp; &#233;t&#xE9; caf\\u00e9 \uff21\uff22 %ZZ &#; &#x; \\u12 "
        "InvalidParameter /parameters/ratio image_url 50%25 of\u200bit"
    )
    assert redact_text(text, [KEYS["gateway"]]) == text
    assert redact_text(text, [KEYS["url-unsafe"]]) == text


def test_a_key_holding_percent_signs_is_found_as_it_is_and_encoded() -> None:
    """A key may hold '%41': decoded, it would read 'A', so it is looked for undecoded too."""
    key = "k%41y-sentinel-%2F-42"
    for text in (key, quote(key, safe=""), _percent(key)):
        assert redact_text(f"[{text}]", [key]) == f"[{REDACTED}]", text


def test_a_redactor_holds_keys_so_it_cannot_be_pickled_and_is_shared_not_copied() -> None:
    redactor = Redactor([SENTINEL])
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(redactor)
    assert copy.deepcopy(redactor) is redactor and copy.copy(redactor) is redactor


# --- keys that cannot be redacted without destroying the report -----------------------------


@pytest.fixture(scope="module")
def vocabulary() -> tuple[str, ...]:
    from facedetect_contract.contracts.loader import api_vocabulary, load_contracts

    return api_vocabulary(load_contracts())


def test_the_apis_vocabulary_holds_its_field_names_error_codes_messages_models_and_path(
    vocabulary: tuple[str, ...],
) -> None:
    from facedetect_contract.contracts.loader import load_contracts

    contracts = load_contracts()
    words = set(vocabulary)
    assert {"image_url", "parameters", "ratio", "check_pass", "face_bbox", "ext_bbox"} <= words
    assert {entry.code for entry in contracts.errors} <= words
    assert {m for entry in contracts.errors for m in entry.messages} <= words
    assert set(contracts.models) <= words and contracts.profile.path in words


@pytest.mark.parametrize(
    "key",
    ["team-parameters-2026", "gw-InvalidParameter-77", "xx-IMAGE_URL-0000"],
    ids=["field name", "error code", "field name, upper-case"],
)
def test_a_key_sharing_a_run_with_a_word_of_the_api_is_refused_naming_the_word(
    key: str, vocabulary: tuple[str, ...]
) -> None:
    """Rule: redacting such a key would erase the word from every report and fixture."""
    problem = key_problem(Secret(key), vocabulary)
    assert problem is not None
    assert "API's own word" in problem and "Use a key" in problem
    named = ast.literal_eval(re.search(r"own word (.+?): redacting", problem).group(1))
    assert named in vocabulary
    lowered = key.lower()
    assert any(lowered[i : i + MIN_RUN] in named.lower() for i in range(len(key) - MIN_RUN + 1))
    assert key not in problem and key.lower() not in problem.lower()


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "short"])
def test_keys_of_every_usual_shape_have_no_problem(shape: str, vocabulary: tuple[str, ...]) -> None:
    assert key_problem(Secret(KEYS[shape]), vocabulary) is None


def test_a_key_shorter_than_a_run_is_refused_as_too_short() -> None:
    problem = key_problem("abc1234", ())
    assert problem is not None and "7 characters long" in problem and "shorter than 8" in problem


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_a_base64_form_cut_short_is_replaced_from_eleven_characters_on(
    encoding: str, shape: str
) -> None:
    """A message quotes the start of an answer: judged as it came, the answer is cut before it
    is redacted, so a form may end (or begin) anywhere; any run of FORM_RUN characters of it
    goes."""
    from facedetect_contract.core.redaction import FORM_RUN

    key = KEYS[shape]
    form = ENCODERS[encoding](key.encode()).decode()
    core = form[: 4 * (len(key) // 3)]  # the groups of the key's own bytes
    cuts = [core[:FORM_RUN], core[-FORM_RUN:], core[3 : 3 + FORM_RUN + 5]]
    for cut in (cut for cut in cuts if len(cut) >= FORM_RUN):  # a short key has no such run
        assert redact_text(f"<{cut}...", [key]) == f"<{REDACTED}...", cut


# --- issue 19: what the mutation run of 2026-12-07 found untested ----------------------------


def _forms_of(key: str) -> dict[str, str]:
    """The key's whole hex form and the groups of its own bytes in each base64 alphabet."""
    data = key.encode()
    core = 4 * (len(data) // 3)
    return {
        "hex": binascii.hexlify(data).decode(),
        "base64": base64.b64encode(data).decode()[:core],
        "url-safe base64": base64.urlsafe_b64encode(data).decode()[:core],
    }


@pytest.mark.parametrize("form", ["hex", "base64", "url-safe base64"])
@pytest.mark.parametrize(
    "key",
    [KEYS["gateway"], KEYS["long-hex"], KEYS["base64-unsafe"], "3333333333333333-sentinel"],
    ids=["gateway", "long-hex", "base64-unsafe", "one character repeated"],
)
def test_every_run_of_eleven_characters_of_a_form_is_replaced_and_ten_from_its_start_are_not(
    key: str, form: str
) -> None:
    """The documented bound, as a number (FORM_RUN imported would move with the code): a form
    cut anywhere goes from 11 characters on; 10 are ordinary text, like any short run."""
    encoded = _forms_of(key)[form]
    for start in range(len(encoded) - 11 + 1):
        cut = encoded[start : start + 11]
        assert redact_text(f"<{cut}...", [key]) == f"<{REDACTED}...", (start, cut)
    if not _holds_a_run(encoded[:10], key):  # '3333333333' is also 8 of the key's own
        assert redact_text(f"<{encoded[:10]}...", [key]) == f"<{encoded[:10]}...", encoded


@pytest.mark.parametrize("shape", ["gateway", "long-hex"])
def test_a_form_cut_at_the_end_of_the_text_is_replaced_to_the_end(shape: str) -> None:
    """Cut by the end of the text (a quoted answer ends there): the run stops at the text's
    end, from its first characters or from any others."""
    key = KEYS[shape]
    for encoded in _forms_of(key).values():
        for cut in (encoded[:11], encoded[:14], encoded[5:19]):
            assert redact_text(f"id={cut}", [key]) == f"id={REDACTED}", cut


@pytest.mark.parametrize("shape", ["gateway", "long-hex"])
def test_a_form_cut_short_keeps_the_text_before_it_even_when_that_text_ends_the_form(
    shape: str,
) -> None:
    """Before a cut that begins where the form begins, nothing belongs to the form, even
    characters equal to the form's own last ones (the form is not a ring)."""
    key = KEYS[shape]
    for encoded in _forms_of(key).values():
        tail = encoded[-3:]
        assert redact_text(f"{tail}{encoded[:11]}.", [key]) == f"{tail}{REDACTED}.", encoded


def test_a_whole_form_does_not_hide_a_form_cut_short_elsewhere_or_right_after_it() -> None:
    """A whole form and a cut form in one text are both replaced: beside each other, apart,
    and a whole hex form followed at once by a cut base64 form."""
    key = KEYS["gateway"]
    forms = _forms_of(key)
    whole, cut = forms["base64"], forms["base64"][4:15]
    assert redact_text(f"{whole} and {cut}.", [key]) == f"{REDACTED} and {REDACTED}."
    assert redact_text(f"{cut} and {whole}.", [key]) == f"{REDACTED} and {REDACTED}."
    assert redact_text(f"{forms['hex']}{cut}.", [key]) == f"{REDACTED}{REDACTED}."
    assert redact_text(f"{cut}{forms['hex']}.", [key]) == f"{REDACTED}{REDACTED}."


def test_a_longer_keys_base64_form_wins_over_a_shorter_keys_form_at_its_start() -> None:
    """Longest first: the base64 of a key that begins with another key starts with the other's
    form; it is replaced whole, with either key given first."""
    old = "gwkey-SENTINEL-0123"
    new = old + "-rotated-2026-sentinel"
    for secrets in ([old, new], [new, old]):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            form = encode(new.encode()).decode()  # 41 bytes: its last quantum is 2 of them
            redacted = redact_text(f"[{form}]", secrets)
            assert redacted.startswith(f"[{REDACTED}") and len(redacted) <= len(REDACTED) + 6
            assert_no_leak(redacted, new)


# What a formatter or a hostile echo inserts between characters, beyond the spaces and U+200B
# tested above: every one of them, and the characters beside them, which are text.
_INVISIBLE = {
    "ideographic space U+3000": "\u3000",
    "soft hyphen U+00AD": "\u00ad",
    "Mongolian vowel separator U+180E": "\u180e",
    "byte order mark U+FEFF": "\ufeff",
    **{f"U+{c:04X}": chr(c) for c in range(0x200B, 0x2010)},
    **{f"U+{c:04X}": chr(c) for c in range(0x2060, 0x2065)},
}
_VISIBLE_NEIGHBOURS = {
    "not sign U+00AC": "\u00ac",
    "registered sign U+00AE": "\u00ae",
    "Mongolian U+180D": "\u180d",
    "Mongolian U+180F": "\u180f",
    "hyphen U+2010": "\u2010",
    "unassigned U+2065": "\u2065",
    "ideographic comma U+3001": "\u3001",
    "unassigned U+FEFE": "\ufefe",
    "unassigned U+FF00": "\uff00",
}


@pytest.mark.parametrize("char", list(_INVISIBLE.values()), ids=list(_INVISIBLE))
def test_every_invisible_character_between_the_keys_characters_is_seen_through(char: str) -> None:
    key = KEYS["gateway"]
    assert redact_text(f"[{char.join(key)}]", [key]) == f"[{REDACTED}]"


@pytest.mark.parametrize("char", list(_VISIBLE_NEIGHBOURS.values()), ids=list(_VISIBLE_NEIGHBOURS))
def test_a_character_beside_the_invisible_ones_is_text_that_breaks_a_run(char: str) -> None:
    key = KEYS["gateway"]
    text = f"[{char.join(key)}]"
    assert redact_text(text, [key]) == text


@pytest.mark.parametrize("reference", ["&#9999999;", "&#1114112;", "&#x110000;", "&#0001114112"])
def test_a_reference_past_the_last_code_point_is_one_character_that_is_no_key(
    reference: str,
) -> None:
    """HTML decodes it as U+FFFD: one character, never an error, never part of a key."""
    key = "XXXXXXXX-sentinel"
    for text in (f"x {reference} y", f"XXXXXX{reference}", f"{reference}XXXXXX"):
        assert redact_text(text, [key]) == text


def test_the_key_as_it_is_is_replaced_whole_when_the_text_before_it_begins_an_escape() -> None:
    """'&#' before '000000000-...' reads, decoded, as one character and the rest: the key as it
    is is replaced all the same, and the text before it is kept."""
    cases = {
        KEYS["repeating"]: "&#",  # '&#000000000' decodes to U+0000
        KEYS["long-hex"]: "100%",  # '%9a' (its first two characters) decodes to one byte
        "u0041bcdefgh-sentinel": "x\\",  # '\\u0041' decodes to 'A'
        "25-sentinel-0123": "50%",  # '%25' decodes to '%'
    }
    for key, before in cases.items():
        assert redact_text(f"[{before}{key}]", [key]) == f"[{before}{REDACTED}]", key


def test_a_key_holding_percent_signs_is_found_percent_encoded_twice() -> None:
    key = "k%41y-sentinel-%2F-42"
    for text in (_percent(key, "%25{:02X}"), _percent(key, "%25{:02x}")):
        assert redact_text(f"[{text}]", [key]) == f"[{REDACTED}]", text


@pytest.mark.parametrize("key", ["ab/cdefghijk/lm/no", KEYS["url-unsafe"]])
def test_each_percent_encoded_key_is_replaced_whole_around_a_plain_run_in_its_middle(
    key: str,
) -> None:
    """The plain run inside the encoded key (here 'cdefghijk') is found apart from the whole
    form: merged, the whole form still goes, in each of several occurrences."""
    encoded = quote(key, safe="")
    assert redact_text(f"x {encoded} y", [key]) == f"x {REDACTED} y"
    assert redact_text(f"{key} and {encoded} y", [key]) == f"{REDACTED} and {REDACTED} y"
    assert (
        redact_text(f"{encoded}, {key} and {encoded}.", [key])
        == f"{REDACTED}, {REDACTED} and {REDACTED}."
    )


def test_a_text_holding_every_form_of_the_key_at_once_keeps_none_of_them() -> None:
    """No space nor escape in it: the text as it is is the only view, and it holds them all."""
    key = KEYS["gateway"]
    data = key.encode()
    pieces = [key, binascii.hexlify(data).decode()]
    for secret in (data, b"Bearer " + data):
        for offset in range(3):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                pieces.append(encode(b"\0" * offset + secret).decode())
    redacted = redact_text(".".join(pieces), [key])
    assert key not in redacted
    assert_no_leak(redacted, key)


def test_a_redactor_refuses_pickling_in_its_own_words() -> None:
    with pytest.raises(TypeError) as raised:
        pickle.dumps(Redactor([SENTINEL]))
    assert str(raised.value) == "a Redactor cannot be pickled"


def test_credentials_are_masked_and_every_other_header_is_kept_as_it_came() -> None:
    """mask_credentials: the request as judged. The credential headers lose their value
    (Authorization keeps its scheme), names are lower-cased, and any other value is kept even
    when it looks like a key: no key's spelling may change what is judged."""
    headers = [
        ("Authorization", "Bearer sk-0f3c9a7e0f3c9a7e"),
        ("X-API-Key", "gateway-token-0123456789"),
        ("Content-Type", "application/json"),
        ("X-Echo", "sk-0f3c9a7e0f3c9a7e"),
        ("Proxy-Authorization", "Bearer <invalid>"),
    ]
    assert mask_credentials(headers) == {
        "authorization": f"Bearer {REDACTED}",
        "x-api-key": REDACTED,
        "content-type": "application/json",
        "x-echo": "sk-0f3c9a7e0f3c9a7e",
        "proxy-authorization": "Bearer <invalid>",
    }
    assert mask_credentials([]) == {}


def _named(problem: str | None) -> str:
    assert problem is not None
    match = re.search(r"own word (.+?): redacting", problem)
    assert match is not None, problem
    named = ast.literal_eval(match.group(1))
    assert isinstance(named, str)
    return named


def test_a_key_of_exactly_eight_characters_is_long_enough() -> None:
    assert key_problem("Sh0rtK3y", ()) is None
    assert key_problem(Secret("Sh0rtK3y"), ("image_url", "InvalidParameter")) is None


def test_the_word_named_is_the_shortest_erased_then_the_first_in_order() -> None:
    key = "team-parameters-2026"
    words = ("the parameters of a call", "zparameters", "yparameters", "ratio", "parameters!")
    assert _named(key_problem(key, words)) == "parameters!"
    assert _named(key_problem(key, words[:3])) == "yparameters"
    assert _named(key_problem(key, tuple(reversed(words[:3])))) == "yparameters"


@pytest.mark.parametrize(
    ("length", "shown"), [(59, None), (60, None), (61, 57), (200, 57)], ids=str
)
def test_a_long_word_is_named_by_its_first_57_characters_and_an_ellipsis(
    length: int, shown: int | None
) -> None:
    word = ("parameters-" * 20)[:length]
    named = _named(key_problem("team-parameters-2026", (word,)))
    assert named == (word if shown is None else word[:shown] + "...")


def test_json_escapes_in_upper_case_hex_and_the_short_escapes_are_read() -> None:
    """'\\u004A' as well as '\\u004a'; '\\/', '\\"' and '\\\\' are the key's own characters."""
    key = 'k/e"y\\-SENTINEL-JK-0123'
    upper = "".join(f"\\u{ord(c):04X}" for c in key)
    short = key.replace("\\", "\\\\").replace("/", "\\/").replace('"', '\\"')
    for text in (upper, short):
        assert redact_text(f"[{text}]", [key]) == f"[{REDACTED}]", text
    assert redact_text(f"[{short}]", [KEYS["long-hex"]]) == f"[{short}]"


def test_a_run_after_an_encoded_percent_is_read_once_too() -> None:
    """'%25ab' is '%ab' read once: 8 characters of the key ('abcdefgh') follow an encoded '%',
    which reading the escapes as often as possible would take as the byte 0xAB."""
    key = "abcdefgh-sentinel"
    text = "x %25ab" + _percent("cdefgh") + " y"
    assert "abcdefgh" in unquote(text)
    assert redact_text(text, [key]) == f"x %25{REDACTED} y"
    assert redact_text("x %25ab%63 50%25 y", [key]) == "x %25ab%63 50%25 y"


@pytest.mark.parametrize("shape", ["gateway", "dashscope", "url-unsafe"])
def test_a_run_of_a_form_is_replaced_when_a_gram_of_the_form_begins_just_before_it(
    shape: str,
) -> None:
    """'3334353' + '67776b65792': the hex form's gram '33343536' begins before the run of 11
    and overlaps the run's only gram; both are found, and no run of 11 of the form is left."""
    key = KEYS[shape]
    cases = 0
    for encoded in list(_forms_of(key).values())[:2]:
        low = encoded.lower()
        for start in range(len(encoded) - 11 + 1):
            run = encoded[start : start + 11]
            for gram_at in range(0, len(encoded) - 8 + 1, 4):
                for shared in range(1, 8):
                    if encoded[gram_at + 8 - shared : gram_at + 8] != run[:shared]:
                        continue
                    text = f"<{encoded[gram_at : gram_at + 8 - shared]}{run}."
                    redacted = redact_text(text, [key]).lower()
                    cases += 1
                    assert not any(low[i : i + 11] in redacted for i in range(len(low) - 10)), text
    assert cases > 50


def test_the_shortest_word_is_named_whole_when_a_longer_one_is_erased_too() -> None:
    key = "team-parameters-2026"
    long_word = "parameters-" * 7  # 77 characters
    assert _named(key_problem(key, (long_word, "parameters!"))) == "parameters!"
    longer = (long_word[:61], "x" + long_word)  # the longer one starts otherwise
    assert _named(key_problem(key, longer)) == long_word[:57] + "..."
