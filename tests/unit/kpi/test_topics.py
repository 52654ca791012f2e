"""The topics of the digest (chalicelib/kpi/topics.py): the words of a subject line that say what
it is about, in English, Ukrainian and Russian, without greetings, filler and stop words.
"""

from __future__ import annotations

import pytest

from chalicelib.kpi.topics import keywords


@pytest.mark.parametrize(
    ("subject", "words"),
    [
        ("Refund for my order", {"refund", "order"}),
        ("REFUND refund Refund", {"refund"}),  # once per ticket, whatever the case
        ("Re: Fwd: Hello, please help with the invoice!", {"invoice"}),  # filler of support mail
        ("Payment and payments", {"payment", "payments"}),  # no stemming
        ("Не працює оплата", {"працює", "оплата"}),  # "не" is a stop word
        ("Добрий день! Питання про рахунок", {"рахунок"}),  # greetings and "question" are filler
        ("Здравствуйте, ошибка при оплате", {"ошибка", "оплате"}),
        ("Нужно обов'язково", {"обов'язково"}),  # an apostrophe inside a word keeps it whole
        ("обов’язково обовʼязково", {"обов'язково"}),  # typographic apostrophes are the same word
        ("I can’t log in", {"log"}),  # "can't" is a stop word however its apostrophe is typed
        ("Order 12345 / SKU-77", {"order", "sku"}),  # no numbers; at least three letters
        ("ab cd efg", {"efg"}),
        ("error_code", {"error", "code"}),  # an underscore separates words
        ("abc123def", {"abc", "def"}),  # so do digits
        ("Ticket #PR-1234: тікет, заявка", set()),  # the word "ticket" says nothing in any language
        ("", set()),
        ("!!! ??? ...", set()),
    ],
)
def test_the_keywords_of_a_subject(subject, words):
    assert keywords(subject) == words
