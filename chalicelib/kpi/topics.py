"""The topics that keep coming back: keywords of ticket subjects.

A deliberately simple tokenizer — lower-cased runs of letters (an apostrophe inside a word
kept, as in Ukrainian "обов'язково"), at least three letters, no digits — minus stop words of
the desk's languages (English, Ukrainian, Russian) and the filler of support mail ("hello",
"please", "re:"). Each ticket counts a word once, so one customer shouting "refund refund"
is one ticket about refunds. No stemming: "payment" and "payments" are two words; the list is
read by people, who merge them at a glance, and a stemmer per language is not worth its weight.
"""

from __future__ import annotations

import re

MIN_LENGTH = 3
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")

_EN = """
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further get got had hadn't has hasn't have haven't having he her here hers
herself him himself his how i i'm if in into is isn't it it's its itself just let's me more most my
myself no nor not now of off on once only or other ought our ours ourselves out over own same she
should shouldn't so some such than that that's the their theirs them themselves then there there's
these they they're this those through to too under until up very was wasn't we we're were weren't
what what's when where which while who whom why will with won't would wouldn't you you're your yours
yourself yourselves also still yet via per since
hello hi hey dear thanks thank please help question questions issue regarding urgent asap re fw fwd
"""
_UK = """
і й та але а або чи що як це цей ця ці той та ті там тут де коли чому тому бо якщо щоб ще вже
не ні так є був була було були буде будуть бути мій моя моє мої мене мені мною ваш ваша ваше ваші вас
вам вами ви він вона воно вони ми нас нам нами його її їх йому їй їм свій своя своє свої себе собі
до від на у в із з зі за про для по при між над під через після перед без біля також лише тільки
дуже можна треба потрібно може можу можете хочу хочемо який яка яке які котрий весь вся все всі
щось хтось ніхто нічого так ні
привіт вітаю добрий день доброго дня будь ласка дякую допоможіть допомога питання запит терміново
"""
_RU = """
и й а но или либо что как это этот эта эти тот та те там тут где когда почему потому если чтобы ещё еще
уже не ни да нет есть был была было были будет будут быть мой моя моё мое мои меня мне мной ваш
ваша ваше ваши вас вам вами вы он она оно они мы нас нам нами его её ее их ему ей им свой своя своё свое
свои себя себе до от на у в из с со за про для по при между над под через после перед без около также
лишь только очень можно нужно надо может могу можете хочу хотим который которая которое которые весь
вся всё все что-то кто-то никто ничего так
привет здравствуйте добрый день пожалуйста спасибо помогите помощь вопрос запрос срочно
"""
STOP_WORDS: frozenset[str] = frozenset((_EN + _UK + _RU).split()) | {"ticket", "тікет", "тикет", "заявка"}


def keywords(subject: str) -> set[str]:
    """The distinct keywords of one subject line."""
    words = set()
    for match in _WORD.finditer(subject.lower()):
        word = match.group(0).replace("’", "'").replace("ʼ", "'")
        if len(word) >= MIN_LENGTH and word not in STOP_WORDS:
            words.add(word)
    return words
