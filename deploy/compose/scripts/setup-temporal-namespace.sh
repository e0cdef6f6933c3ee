#!/bin/sh
# temporal-namespace (admin-tools): the csd namespace and the search attributes every csd-ops
# workflow keeps current (workflows/search_attributes.py), all Keyword. Safe to rerun.
set -eu
NS="${CSD_TEMPORAL_NAMESPACE:-csd}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"

until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do sleep 2; done

if ! temporal operator namespace describe --namespace "$NS" --address "$ADDRESS" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$NS" \
    --retention "${TEMPORAL_NAMESPACE_RETENTION:-30d}" --address "$ADDRESS"
fi

existing="$(temporal operator search-attribute list --namespace "$NS" --address "$ADDRESS")"
for sa in CsdProcess CsdRegion CsdStage CsdSlaState CsdRuleVersion; do
  echo "$existing" | grep -qw "$sa" && continue
  temporal operator search-attribute create --namespace "$NS" --name "$sa" --type Keyword \
    --address "$ADDRESS"
done
echo "namespace $NS and its search attributes are in place"
