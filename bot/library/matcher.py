"""Recognise the fraud type in a free-text description, spot emergencies and feature requests.

The index is built once from the content library (each type's matcher phrases and keywords, plus its
summary, red flags and case stories as weaker evidence). A message is scored against every type by
(a) rapidfuzz similarity to the type's phrases, Chinese cut into character bigrams so the token scorers
work without a word segmenter, (b) weighted keyword hits (zh substring, en word boundary), and
(c) an IDF-weighted overlap with the type's whole text. English words are lemmatised and stemmed
(bot/library/english.py) and neighbouring words also count as pairs. The benign library (content/benign/)
competes as further classes: when an ordinary kind (courier, bank, school...) beats every fraud type, the
answer is "other" with that kind, unless the message makes a scammer's demand (a fee, a code, a link);
asking whether a notice is genuine, naming an official channel or saying the person started it makes
"ordinary" likelier unless a stranger or a scam's offer is in it. A courtship (a wrong-number text, a dating
app, weeks of chat) that ends on a platform lends romance the platform's score: that is pig butchering.
A naive Bayes signal over the same texts (bot/library/semantic.py) can be fused in; it is off because it
won no more than 2 of 804 development lines (bench/classify.py --semantic measures it). Weights were tuned
on bench/data/dev.tsv, dev2.tsv and dev16.tsv (never on eval.tsv or heldback16.tsv); the reassurance and
courtship weights were set on those dev sets too (bench/classify.py prints CHOICES_FROM's calibration).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.library import english
from bot.library.semantic import NaiveBayes

OTHER = "other"
_UNKNOWN = "\U0010fffd"         # stands for every query token no phrase contains
NOTHING_FITS = 50.0             # the score of "other" when no type has any real evidence
MAX_CHARS = 600                 # a description longer than this is matched on its beginning and end
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")

@dataclass(frozen=True)
class Weights:
    """How the three kinds of evidence are combined (tuned on dev.tsv + dev2.tsv only)."""

    phrase: float = 0.3         # rapidfuzz top-k mean over the type's phrases (0-100)
    keyword: float = 6.0        # per keyword hit (shared keywords split between their types)
    overlap: float = 300.0      # cosine TF-IDF similarity with the type's whole text (0-1)
    top_k: int = 3
    aux_weight: float = 0.5     # how much summary / red flags / cases count in the overlap
    other_floor: float = 8.0    # below this combined score nothing fits: the answer is "other"
    # token_sort_ratio, not token_set_ratio: a vague three-word message must not score 100 against a
    # long phrase that merely contains its words (same accuracy, honest confidence on vague input).
    scorer: str = "token_sort_ratio"
    benign_bias: float = 1.0    # a benign kind wins when its score times this beats the best fraud type's
    semantic: float = 0.0       # naive Bayes posterior (0-1) over the library's texts, times this
    demand_damp: float = 0.4    # each scammer's demand in a message (a fee, a code, a link) weakens "ordinary"
    # A message with no demand that asks whether it is genuine, names an official channel or says the person
    # started it ("是真的吗", "on the official website", "I requested it") is this much likelier ordinary.
    reassured: float = 2.0
    # Weeks of chat from a wrong number or a dating app that ends on a platform is romance (pig butchering):
    # a courtship cue lends romance this share of the best investment / gambling score.
    courtship: float = 0.6
    # A best score (0-100) from here up is an answer, below it the top three are offered: on the dev sets
    # 87% of messages are answered with 98% right, and the right type is in the offered three for 94% of the rest.
    sure_at: float = 25.0


@dataclass(frozen=True)
class Verdict:
    """What the matcher makes of one message."""

    ranked: list[tuple[str, float]]     # every type best first, score 0-100
    benign: str | None                  # the benign kind when the message reads as ordinary, else None
    sure: bool                          # whether the best type is confident enough to answer alone

    @property
    def top(self) -> tuple[str, float]:
        """The best type and its score."""
        return self.ranked[0]

    @property
    def top3(self) -> list[tuple[str, float]]:
        """The three best types, offered as choices when the matcher is unsure."""
        return self.ranked[:3]


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, whitespace collapsed, long texts trimmed."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("\u2019", "'")   # I’ve -> I've
    text = " ".join(text.split())
    if len(text) > MAX_CHARS:
        half = MAX_CHARS // 2
        text = text[:half] + " " + text[-half:]
    return text


def _is_cjk(token: str) -> bool:
    """Whether a token is Chinese (a bigram or a single character)."""
    return "\u3400" <= token[0] <= "\u9fff"


def tokens(text: str) -> list[str]:
    """Tokens of a normalized text: Chinese character bigrams (single characters alone), English stems and stem pairs."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    stems = english.content_stems(text)
    out.extend(stems)
    # Neighbouring English words as one token too ("card_number", "safe_account"): word order carries meaning.
    out.extend(f"{a}_{b}" for a, b in itertools.pairwise(stems))
    return out


class Matcher:
    """Ranks fraud types for a description; built once from the library."""

    def __init__(self, library, weights: Weights | None = None) -> None:
        self.weights = weights or Weights()
        self.type_ids = [t for t in library.types if t != OTHER] + ([OTHER] if OTHER in library.types else [])
        self._build(library)

    # --- index ------------------------------------------------------------------------
    def _build(self, library) -> None:
        w = self.weights
        # One document per class: each fraud type, then each benign kind (content/benign/), which
        # competes on the same evidence so an ordinary courier or bank message can win.
        docs: list[tuple[tuple[str, ...], tuple[str, ...], list[str]]] = []
        for type_id in self.type_ids:
            t = library.types[type_id]
            docs.append(((*t.phrases.zh, *t.phrases.en), t.keywords, _teaching_texts(t)))
        benign = library.benign()
        self.benign_ids = list(benign)
        for kind in benign.values():
            docs.append(((*kind.messages.zh, *kind.messages.en), kind.keywords, []))
        self._n_types = len(self.type_ids)
        self._romance = self.type_ids.index("romance") if "romance" in self.type_ids else None
        self._platforms = [self.type_ids.index(t) for t in ("investment", "gambling") if t in self.type_ids] or [0]
        # Each class's text as one TF-IDF vector: its phrases and keywords count fully,
        # everything else it teaches (summary, red flags, cases, quiz, self-checks) counts less.
        counts: list[Counter[str]] = []
        for phrases, keywords, teaching in docs:
            doc: Counter[str] = Counter()
            for phrase in (*phrases, *keywords):
                doc.update(tokens(normalize(phrase)))
            aux: Counter[str] = Counter()
            for text in teaching:
                aux.update(tokens(normalize(text)))
            for tok, c in aux.items():
                doc[tok] += w.aux_weight * c
            counts.append(doc)
        examples = []
        for index, (phrases, keywords, teaching) in enumerate(docs):
            examples += [(index, tokens(normalize(x)), 1.0) for x in (*phrases, *keywords)]
            examples += [(index, tokens(normalize(x)), w.aux_weight) for x in teaching]
        self._bayes = NaiveBayes(examples, len(docs)) if w.semantic else None
        df: Counter[str] = Counter()
        for doc in counts:
            df.update(set(doc))
        n = len(docs)
        self._idf = {tok: math.log((n + 1) / (count + 0.5)) for tok, count in df.items()}
        self._common = {tok for tok, count in df.items() if count > n * 0.45}
        # Inverted: token -> [(class index, idf * normalised weight)], so a message costs its tokens only.
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, doc in enumerate(counts):
            vector = {tok: (1.0 + math.log(c) if c >= 1 else c) * self._idf[tok] for tok, c in doc.items()}
            # Chinese and English parts are normalised apart, so English is not drowned by bigrams.
            cjk = {tok: _is_cjk(tok) for tok in vector}
            lengths = {False: 0.0, True: 0.0}
            for tok, x in vector.items():
                lengths[cjk[tok]] += x * x
            norms = {flag: math.sqrt(total) or 1.0 for flag, total in lengths.items()}
            for tok, x in vector.items():
                self._postings[tok].append((index, self._idf[tok] * x / norms[cjk[tok]]))
        # Phrases for rapidfuzz: each token becomes one private-use character, so the token scorers
        # compare short strings; an inverted index limits scoring to phrases sharing a token.
        self._token_chars: dict[str, str] = {}
        self._phrase_types: list[int] = []
        self._phrase_strings: list[str] = []
        self._phrases_with: dict[str, list[int]] = defaultdict(list)
        for index, (phrases, _, _) in enumerate(docs):
            for phrase in phrases:
                toks = [tok for tok in tokens(normalize(phrase)) if tok not in self._common]
                if toks:
                    for tok in set(toks):
                        self._phrases_with[tok].append(len(self._phrase_strings))
                    self._phrase_types.append(index)
                    self._phrase_strings.append(" ".join(self._char(tok) for tok in toks))
        # Keywords: zh as substrings, en as whole words; a keyword shared by several types counts less.
        owners: dict[str, set[int]] = defaultdict(set)
        for index, (_, keywords, _) in enumerate(docs):
            for keyword in keywords:
                key = normalize(keyword)
                if key:
                    owners[key].add(index)
        self._zh_keywords: list[tuple[str, tuple[int, ...], float]] = []
        self._en_keywords: dict[str, tuple[tuple[int, ...], float]] = {}
        for key, who in owners.items():
            weight = 1.0 / len(who)
            if _CJK_RUN.search(key):
                self._zh_keywords.append((key, tuple(who), weight))
            else:
                stems = " ".join(english.all_stems(key))
                if stems:
                    self._en_keywords[stems] = (tuple(who), weight)
        # All English keywords in one pattern, longest first, matched on whole stemmed words.
        alternatives = "|".join(re.escape(k) for k in sorted(self._en_keywords, key=len, reverse=True))
        self._en_pattern = re.compile(
            r"(?<![a-z0-9])(" + (alternatives or "(?!)") + r")(?![a-z0-9])"
        )

    def _char(self, tok: str) -> str:
        """The private-use character standing for a token (assigned on first sight)."""
        if tok not in self._token_chars:
            self._token_chars[tok] = chr(0xF0000 + len(self._token_chars))
        return self._token_chars[tok]

    # --- classification ---------------------------------------------------------------
    def scores(self, text: str) -> list[float]:
        """The raw combined score of every class: self.type_ids in order, then self.benign_ids."""
        w = self.weights
        clean = normalize(text)
        toks = [tok for tok in tokens(clean) if tok not in self._common]
        n = self._n_types + len(self.benign_ids)
        totals = [0.0] * n
        if not toks and not clean:
            return totals
        candidates = sorted({i for tok in toks for i in self._phrases_with.get(tok, ())})
        if candidates:
            query = " ".join(self._token_chars.get(tok, _UNKNOWN) for tok in toks)
            choices = [self._phrase_strings[i] for i in candidates]
            best: list[list[float]] = [[] for _ in range(n)]
            scorer = getattr(fuzz, w.scorer)
            for _, score, index in process.extract(query, choices, scorer=scorer, limit=None, score_cutoff=20):
                best[self._phrase_types[candidates[index]]].append(score)
            for i, scores in enumerate(best):
                if scores:
                    top = sorted(scores, reverse=True)[: w.top_k]
                    totals[i] += w.phrase * sum(top) / w.top_k
        for key, who, weight in self._zh_keywords:
            if key in clean:
                for i in who:
                    totals[i] += w.keyword * weight
        for key in {m.group(1) for m in self._en_pattern.finditer(" ".join(english.all_stems(clean)))}:
            who, weight = self._en_keywords[key]
            for i in who:
                totals[i] += w.keyword * weight
        if toks:
            unique = set(toks)
            # Cosine: divide by the message's own length, so short English and long Chinese compare.
            scale = w.overlap / max(1.0, math.sqrt(sum(self._idf.get(tok, 0.0) ** 2 for tok in unique)))
            for tok in unique:
                for i, weight in self._postings.get(tok, ()):
                    totals[i] += scale * weight
        if self._bayes is not None and toks:
            for i, p in enumerate(self._bayes.probabilities(toks)):
                totals[i] += w.semantic * p
        if w.courtship and self._romance is not None and any(p.search(clean) for p in _COURTSHIP):
            totals[self._romance] += w.courtship * max(totals[i] for i in self._platforms)
        return totals

    def judge(self, text: str) -> Verdict:
        """The ranked types, whether the message reads as ordinary (and which kind), and how sure we are."""
        w = self.weights
        totals = self.scores(text)
        ranked = sorted(zip(self.type_ids, totals[: self._n_types], strict=True),
                        key=lambda item: item[1], reverse=True)
        best = ranked[0][1]
        kind, ordinary = self._ordinary(text, totals[self._n_types:])
        if kind is not None and ordinary > best and ordinary >= w.other_floor:
            score = self._score(ordinary, ordinary - best)
            rest = [(t, self._score(s, 0.0)) for t, s in ranked if t != OTHER]
            return Verdict([(OTHER, score), *rest], kind, score >= w.sure_at)
        second = max(ranked[1][1] if len(ranked) > 1 else 0.0, ordinary)
        scored = [(t, self._score(s, s - second if i == 0 else 0.0)) for i, (t, s) in enumerate(ranked)]
        if best < w.other_floor:
            rest = [(t, s) for t, s in scored if t != OTHER]
            return Verdict([(OTHER, NOTHING_FITS), *rest], None, False)
        return Verdict(scored, None, scored[0][1] >= w.sure_at)

    def _ordinary(self, text: str, benign: list[float]) -> tuple[str | None, float]:
        """The likeliest benign kind and its weighed score, damped by every scammer's demand the text makes."""
        if not benign:
            return None, 0.0
        index = max(range(len(benign)), key=benign.__getitem__)
        clean = _NO_SHARING.sub(" ", normalize(text))
        # Asking how or where to report a scam names the scam, but it is still an ordinary question.
        demands = 0 if _REPORTING.search(clean) else sum(1 for p in _DEMANDS if p.search(clean))
        weight = self.weights.benign_bias * self.weights.demand_damp ** demands
        if not demands and not _UNSOLICITED.search(clean):
            weight *= self.weights.reassured ** min(2, sum(1 for p in _REASSURING if p.search(clean)))
        return self.benign_ids[index], benign[index] * weight

    def classify(self, text: str) -> list[tuple[str, float]]:
        """Types ranked best first with a score 0-100; "other" first when nothing fits or the message is ordinary."""
        return self.judge(text).ranked

    @staticmethod
    def _score(raw: float, lead: float) -> float:
        """0-100 from how strong the evidence is and how far it leads the runner-up (0 for runners-up)."""
        strength = min(1.0, max(0.0, raw) / 120.0)
        # A lead counts fully only when the evidence itself is substantial (a vague line can lead by luck).
        margin = min(1.0, max(0.0, lead) / 30.0) * min(1.0, max(0.0, raw) / 60.0)
        return round(100.0 * (0.55 * strength + 0.45 * margin), 1)

    def has_signal(self, text: str) -> bool:
        """Whether the text shares any word or keyword with the library (emoji and noise do not)."""
        clean = normalize(text)
        if any(tok in self._idf for tok in tokens(clean)):
            return True
        return any(key in clean for key, _, _ in self._zh_keywords) or bool(self._en_pattern.search(" ".join(english.all_stems(clean))))

    def top(self, text: str) -> tuple[str, float]:
        """The best type and its confidence."""
        return self.classify(text)[0]

    # --- urgency and intents ----------------------------------------------------------
    def is_urgent(self, text: str) -> bool:
        """Whether money has already left or a code/screen was already shared."""
        clean = normalize(text)
        if any(p.search(clean) for p in _NOT_YET):
            return False
        return any(p.search(clean) for p in _URGENT)

    def intent(self, text: str) -> str | None:
        """The feature a short free text asks for ('report', 'quiz', ...), or None."""
        return detect_intent(text)


# --- urgency: money gone or a code / screen given ------------------------------------------
_URGENT = [re.compile(p) for p in (
    r"(已经|已|刚|刚刚|刚才|昨天|今天|前后|一共|总共|陆续|都)\s*(转|汇|付|打|充|交|支付|转账|汇款|充值|打款)(了|过|给|进|出|完)",
    r"(转|汇|付|打|充|交|借|贷)(了|出去|过去|完了)\s*[\d一二三四五六七八九十两几百千万]",
    r"(转|汇|付|打|充|交)了\s*(钱|款|他|她|对方|给)",
    r"(转|汇|打|充)(过去|出去|进去)了",
    r"(钱|款).{0,4}(被)?(转走|骗走|划走|扣走|没了|取走|追不回|要不回|回不来)",
    r"(被|让人|让他|让她)\s*骗了",
    r"被骗(了|走)?\s*[\d一二三四五六七八九十两几百千万]",
    r"验证码.{0,8}(给|告诉|报给|发给|念给|说给)(了|他|她|对方)",
    r"(给|告诉|报给|发给|念给)(了)?(他|她|对方)?.{0,4}验证码",
    # "让我开屏幕共享" is being asked, not done: only the person's own act counts.
    r"(?<!让我)(?<!叫我)(?<!要我)(?<!让你)(?<!让我打)(?<!叫我打)(?<!要我打)(开|打开|开了|共享|分享).{0,3}(屏幕共享|共享屏幕)",
    r"屏幕共享.{0,6}(了|过)",
    r"(密码|卡号).{0,6}(给|告诉)(了|他|她|对方)",
    r"(已经|刚刚|刚才).{0,6}(下载|安装)了",
    r"\b(i|we)\s*(have\s*|had\s*|'ve\s*|just\s*|already\s*)*(paid|sent|transferred|wired|gave|lost|deposited|topped up)\b",
    r"\b(already|just)\s+(paid|sent|transferred|wired|gave|shared|deposited|topped up|lost)\b",
    r"\bmoney\s+(is|was|has been)?\s*(gone|taken|stolen|lost)\b",
    r"\b(they|he|she|scammer)\s+(took|stole|has|got)\s+(my\s+)?(money|code|password|\d)",
    r"\bi\s+(gave|told|sent|shared|read)\s+(them|him|her)?\s*(the|my)?\s*(verification\s+|sms\s+|otp\s+|security\s+)?(code|otp|password|pin)\b",
    r"\b(shared|was sharing)\s+my\s+screen\b",
    r"\bi\s*(was|have been|got|'ve been|'m)\s*(scammed|defrauded|cheated|ripped off)\b",
    r"\blost\s+(\d|¥|\$|rmb|yuan|all my)",
)]
# "还没转" / "haven't paid" is not an emergency even if the words above appear.
_NOT_YET = [re.compile(p) for p in (
    r"(还没|没有|还未|并没|没)(有)?\s*(转|汇|付|打|充|交|给|下载|共享)",
    r"(要不要|该不该|能不能|可以|是否|会不会).{0,4}(转|付|给|交)",
    r"\b(haven't|have not|didn't|did not|not yet|never)\s+(yet\s+)?(paid|sent|transferred|given|shared|pay|send|give)",
    r"\bshould i\s+(pay|send|transfer|give)",
)]


# --- what scammers ask for and ordinary messages do not: each one found makes "ordinary" less likely --------
_DEMANDS = [re.compile(p) for p in (
    r"验证码.{0,6}(给|发|告诉|报|念)|(给|发|告诉|报|念).{0,6}验证码",
    r"屏幕共享|共享屏幕|远程|会议软件|下载.{0,8}(app|软件|应用)|陌生.{0,2}(app|软件)",
    r"安全账户|监管账户|国家账户|资金清查|保证金|解冻|激活费|手续费|服务费|工本费|验资|刷流水|流水不够|先交|先付|垫付|定金",
    r"(加|添加).{0,3}(qq|微信|私聊|好友)|私下交易|扫码|二维码|付款码|收款码|链接|网址",
    r"冻结|逮捕|通缉|涉嫌|洗钱|违规|违法|犯罪|保密|不要告诉|别告诉",
    r"冒充|假冒|自称|骗子|\b(fake|impersonat\w*|pretend\w*|posing as|claim\w* to be|scammers?)\b",
    r"\b(gift ?cards?|itunes|steam cards?|bitcoin|crypto|usdt|wire (it|the|money)|western union)\b",
    r"\b(verification|sms|one[- ]time|security) code\b.{0,30}\b(give|send|read|share|tell)|"
    r"\b(give|send|read|share|tell)\b.{0,20}\b(verification|sms|one[- ]time|security) code\b|"
    r"\b(need|want|ask\w*)\b.{0,12}\b(the|my|your) (\w+ )?(code|otp|pin|password)\b",
    r"\b(screen ?shar\w*|remote access|anydesk|teamviewer|install (an|a|the|their) app)\b",
    r"\b(safe account|upfront|up front|processing fee|release fee|unlock\w*|unfreez\w*|deposit first|pay first)\b|"
    r"\bpay (a|an|some) (\w+ )?(fee|deposit|tax|charge)\b|\bfee to (receive|release|get|claim|withdraw)\b",
    r"\b(on|via|through|with|click\w*|tap\w*|open\w*) (a|the|this) link\b|\bqr code\b|\bpersonal account\b|"
    r"\blink to (pay|update|confirm|verify|claim|log ?in|sign ?in)\b",
    r"\b(arrest\w*|warrant|bail|deport\w*|money laundering|keep (it|this) (a )?secret|don't tell|do not tell)\b",
    r"\b(illegal|contraband|drugs|suspect|criminal|crime)\b",
)]


# A genuine code message's own warning ("do not share this code", "请勿泄露") is not a demand for the code.
_NO_SHARING = re.compile(
    r"(请勿|切勿|不要|勿)(泄露|告知|告诉|转发|透露)(给)?(他人|任何人|别人)?|"
    r"\b(do not|don't|never|not to) (share|give|tell|disclose|forward)\b.{0,24}\b(anyone|anybody|others|with)\b"
)

# What an ordinary message says that a scam's does not: a question whether it is genuine, an official
# channel the person checks themselves, or something the person started.
_REASSURING = [re.compile(p) for p in (
    r"是真的吗|是不是真的|是官方的吗|是官方发的吗|是不是官方|是正规的吗|正常吗|"
    r"怎么(判断|知道|核实|确认|查).{0,24}(真|官方|正规)",
    r"官网|官方app|官方网站|官方渠道|学生系统|学工系统|教务系统|研招网|公示|(在|用)(手机银行|银行app)|"
    r"(去|到)(学校|学院)?.{0,6}(资助中心|财务处|教务处|学工处|办公室|窗口|网点|营业厅|柜台)",
    r"我自己|本人操作|自己(申请|设置|办理)的",
    r"\bis (it|this|that|the \w+( \w+)?) (real|legit|legitimate|official|genuine|normal|safe)\b|"
    r"\b(really|actually) (from|the)\b|\bhow (do|can|would) (i|we|you) (know|tell|check|verify)\b|"
    r"\b(real|legit|genuine|official|normal)\?",
    r"\bofficial (website|site|app|portal|page|channel|tracking)\b|\bstudent portal\b|\bin the (official )?app\b|"
    r"\b(at|to|visit) the (\w+ )?(office|counter|branch)\b",
    r"\bi (requested|asked for|started)\b|\b(did|doing|done|set|turned on|made)\b.{0,24}\bmyself\b|"
    r"\bi'?m (logging|signing|binding|adding|resetting)\b",
)]

# A question how or where to report something, with nothing having happened yet.
_REPORTING = re.compile(
    r"^(请问)?(怎么|如何|在哪|去哪|在哪里|应该在哪里?|应该怎么)(举报|投诉|报警)|(应该)?(在哪|去哪)(里)?(举报|投诉)|"
    r"^(what is the (right )?way|how (do|can|should) (i|we)|where (do|can|should) (i|we)) (to )?(report|send)\b"
)

# A stranger's approach or a scam's offer: "is this real?" about it is a question about that scam.
_UNSOLICITED = re.compile(
    r"有人|陌生|自称|刷单|返利|返佣|兼职|网上认识|(打|来)电话说|电话里说|加我(微信|qq|好友)|私信|"
    r"\b(someone|somebody|stranger|a (guy|man|woman|girl|lady|caller)|claim\w*|pretend\w*|part[- ]time|commission)\b|"
    r"\b(called|phoned|rang|texted|messaged) (me )?(to say|saying|and said)\b|\bcall from\b.{0,40}\bsaying\b"
)

# A courtship: a wrong-number text, a dating app, weeks of daily chat, a partner never met.
_COURTSHIP = [re.compile(p) for p in (
    r"加错|发错|网恋|交友(软件|app|平台)|婚恋|探探|陌陌|soul|男朋友|女朋友|老公|老婆|"
    r"聊了.{0,3}(几|一|两|三|四|五|半)(个)?(周|星期|月)|每天(聊天|问候|嘘寒问暖|早安)",
    r"\bwrong number\b|\b(texted|messaged|added) me by mistake\b|\bby mistake\b|"
    r"\b(tinder|hinge|bumble|tantan|dating (app|site)|online (boyfriend|girlfriend))\b|"
    r"\b(chatt?(ed|ing)|talk(ed|ing)|texting)\b.{0,30}\b(every day|for (\w+ )?(weeks|months)|daily)\b|"
    r"\bgood morning (messages|texts)\b",
)]


# --- intents: free text asking for a feature ----------------------------------------------
_INTENTS: list[tuple[str, re.Pattern]] = [
    ("report", re.compile(r"^(我)?(要|想|想要|需要|怎么|如何|在哪)?\s*(举报|报案|报警|上报|反映情况)(一下|诈骗|骗子)?[吗呢?？!！。.]*$|"
                          r"^(i\s+)?(want|need|would like|'d like)?\s*(to\s+)?(report|file a report)( (a|this|it|fraud|scam|something))?[.!?]*$")),
    ("quiz", re.compile(r"^(我)?(要|想|想要|来|开始)?\s*(做题|答题|刷题|测试|测验|考试题|知识测试|反诈测试|做测试|做个测试|测一测)(吧|一下)?[吗呢?？!！。.]*$|"
                        r"^(start|take|do|begin|i want to take|i want to do)?\s*(a|the)?\s*(quiz|test|awareness test)[.!?]*$")),
    ("pledge", re.compile(r"承诺书|签承诺|签署承诺|安全承诺|^(sign )?(the )?(safety )?pledge\b|where is the pledge|sign the pledge")),
    ("checkin", re.compile(r"^(我)?(要|想|来)?\s*(打卡|自查|每日自查|今日自查|签到)(一下)?[吗呢?？!！。.]*$|"
                           r"^(daily )?(check[- ]?in|self[- ]check)[.!?]*$")),
    ("learn", re.compile(r"^(有哪些|常见|都有什么|什么是)?(诈骗类型|骗局类型|常见骗局|反诈知识|防骗知识|学习反诈)[吗呢?？!！。.]*$|"
                         r"^(types of (scams|fraud)|learn|scam types|common scams)[.!?]*$")),
    ("help", re.compile(r"^(帮助|菜单|功能|你能做什么|你会什么|怎么用)[吗呢?？!！。.]*$|^(help|menu|what can you do\??)$")),
    ("bind", re.compile(r"^(我)?(要|想|想要|怎么|如何|在哪)?\s*(绑定|关联|登记|认证)(一下)?(班级|学号|工号|账号|身份)?[吗呢?？!！。.]*$|"
                        r"^(how (do i|to) )?(bind|link|register)( my)?( account| class| number)?[.!?]*$")),
    ("greet", re.compile(r"^(你好|您好|嗨|哈喽|在吗|在不在|有人吗|老师好)[啊呀呢吗?？!！。.~]*$|^(hi|hello|hey|good (morning|afternoon|evening))[.!?]*$")),
]


def detect_intent(text: str) -> str | None:
    """The feature a short free text asks for, or None when it reads like a description."""
    clean = normalize(text)
    if not clean or len(clean) > 40:
        return None
    for name, pattern in _INTENTS:
        if pattern.search(clean):
            return name
    return None


def _teaching_texts(fraud_type) -> list[str]:
    """Everything a type teaches besides its matcher phrases, in both languages."""
    t = fraud_type
    texts = [t.summary.zh, t.summary.en, *t.red_flags.zh, *t.red_flags.en]
    for case in t.cases:
        for part in (case.zh, case.en):
            texts += [part.title, part.story, part.turning_point, part.lesson]
    for question in t.quiz:
        for part in (question.zh, question.en):
            texts += [part.question, *part.options]
    for check in t.selfchecks:
        texts += [check.question.zh, check.question.en]
    return texts


def build_matcher(library, weights: Weights | None = None) -> Matcher:
    """Build the matcher's index from a loaded library."""
    return Matcher(library, weights)


def evaluate(matcher: Matcher, rows: Iterable[tuple[str, str, str]]) -> float:
    """Top-1 accuracy of matcher over (type, lang, text) rows."""
    rows = list(rows)
    right = sum(1 for type_id, _, body in rows if matcher.top(body)[0] == type_id)
    return right / len(rows) if rows else 0.0
