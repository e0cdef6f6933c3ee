"""The custom search attributes that make the Web UI read like a case file.

`csd dev` registers them on the dev server; in production they are created once with
`temporal operator search-attribute create` (deploy/README.md).
"""

from temporalio.common import SearchAttributeKey

PROCESS = SearchAttributeKey.for_keyword("CsdProcess")
REGION = SearchAttributeKey.for_keyword("CsdRegion")
STAGE = SearchAttributeKey.for_keyword("CsdStage")
SLA_STATE = SearchAttributeKey.for_keyword("CsdSlaState")
RULE_VERSION = SearchAttributeKey.for_keyword("CsdRuleVersion")

ALL = (PROCESS, REGION, STAGE, SLA_STATE, RULE_VERSION)
