"""How metrics are named in goals: each supported metric's names and abbreviations ('ROC
AUC', 'macro-F1', 'mean abs error', 'R²'), the metrics said in general words ('catch at
least 75% of the fraud cases' asks for recall), and the metrics people ask for that the
kernel does not optimise, so that the error can say so (:mod:`.metric` reads them).
"""

from __future__ import annotations

import re

from dagster_agentic.goals.objective import Metric

METRIC_PATTERNS: tuple[tuple[Metric, re.Pattern[str]], ...] = (
    (
        "roc_auc",
        re.compile(
            r"\b(?:roc[\s_-]?auc|au[\s_-]?roc|area under (?:the )?(?:roc )?curve"
            r"|auc(?:[\s_-]roc)?|roc)\b"
        ),
    ),
    (
        "macro_f1",
        re.compile(
            r"\bmacro(?:[\s_-]?averaged)?[\s_-]?f(?:[\s_-]?1(?:[\s_-]?score)?|[\s_-]?score)\b"
            r"|\bf1[\s_-]?macro\b"
        ),
    ),
    ("f1", re.compile(r"\bf(?:[\s_-]?1(?:[\s_-]?score)?|[\s_-]?(?:score|measure))\b")),
    (
        "precision",
        re.compile(
            r"\b(?:precision|ppv|positive predictive value|false[\s-]positives?"
            r"|false[\s-]alarms?)\b"
        ),
    ),
    (
        "recall",
        re.compile(
            r"\b(?:recall|sensitivity|true[\s-]positive[\s-]rate|tpr|false[\s-]negatives?)\b"
        ),
    ),
    ("accuracy", re.compile(r"\baccuracy\b")),
    # 'root mean squared error', 'root avg sq. error', 'mean abs error', 'avg. absolute err'.
    (
        "rmse",
        re.compile(
            r"\b(?:rmse|root[\s-](?:mean|avg\.?|average)[\s-]+(?:squared?|sq\.?)[\s-]+"
            r"(?:error|err)\b)"
        ),
    ),
    (
        "mae",
        re.compile(
            r"\b(?:mae|(?:(?:mean|avg\.?|average)[\s-]+)?(?:absolute|abs\.?)[\s-]+"
            r"(?:error|err)\b)"
        ),
    ),
    (
        "r2",
        re.compile(
            r"\b(?:r²|r\^2|r2|r[\s-]?squared|coefficient of determination"
            r"|explained variance)(?![\w])"
        ),
    ),
)
# Metrics said in general words: 'catch at least 75% of the fraud cases', 'find 80% of the
# churners' ask for recall (the share of actual positives found); 'of those flagged, 90%
# should be right', '90% of the flagged ones must be correct' ask for precision (the share
# of flagged ones that are positives). The verb must be followed by 'N% of', or the share by
# 'should be right', so an ordinary 'identify' or 'flag' is no metric.
SAID_METRICS: tuple[tuple[Metric, re.Pattern[str]], ...] = (
    (
        "precision",
        re.compile(
            r"\b(?:of\s+(?:those|the\s+ones|the\s+\w+|them|all|what)(?:\s+\w+){0,3}?\s+"
            r"(?:flag(?:ged|s)?|predict(?:ed|s)?|select(?:ed|s)?|pick(?:ed|s)?|alert(?:ed|s)?"
            r"|mark(?:ed|s)?|chosen|choose)\b[^.;!?]{0,30}?"
            r"\d+(?:\.\d+)?\s*%|\d+(?:\.\d+)?\s*%\s+of\s+(?:those|the\s+ones|the|them|all)?"
            r"(?:\s+\w+){0,3}?\s*(?:flagged|predicted|selected|picked|alerts?|flags))"
            r"[^.;!?]{0,30}?\b(?:should|must|need\s+to|has\s+to|have\s+to|will|to)\s+be\s+"
            r"(?:right|correct|true|real|genuine|accurate|actual)\b"
        ),
    ),
    (
        "recall",
        re.compile(
            r"\b(?:catch(?:es)?|find(?:s)?|flag(?:s)?|identif(?:y|ies)|detect(?:s)?|spot(?:s)?"
            r"|captur(?:e|es)|recover(?:s)?|pick\s+up|pick(?:s)?\s+out)"
            r"(?=\s+(?:at\s+least\s+|over\s+|more\s+than\s+|no\s+less\s+than\s+"
            r"|a\s+minimum\s+of\s+|about\s+|around\s+)?\d+(?:\.\d+)?\s*%\s+of\b)"
        ),
    ),
)
# Metrics people ask for that the kernel does not optimise: named so the error can say so.
UNSUPPORTED_METRICS = re.compile(
    r"\b(?:pr[\s_-]?auc|auprc|average precision|precision[\s-]recall (?:auc|curve)|log[\s-]?loss"
    r"|brier|mcc|matthews|specificity|mse|(?<!root )mean squared error|mape|rmsle|msle|ndcg|map@\d+"
    r"|micro[\s_-]?f1|weighted[\s_-]?f1|cohen'?s kappa|kappa)\b"
)
