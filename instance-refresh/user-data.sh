#!/usr/bin/env bash
# nixos-aws instance-refresh: the user data of a NixOS launch template.
# This is the readable source, over EC2's 16 KB limit on user data: launch templates take user-data.packed.sh, which
# `npm run build` (scripts/user-data.mjs) makes from it, its settings as exports and the rest without comments.
#
# It reads the NixOS system to run from this instance's tags through instance metadata (IMDSv2), fetches that closure
# from the binary cache, checks that it is signed by a trusted key (fetched or already in the store), makes it the
# system profile and boots into it. NixOS runs user data on every boot: the script applies a tag value once. When the
# tag still names the system it applied at an earlier boot, it does nothing, so that a system switched to in place
# later (ssm-deploy, or by hand) is not undone at the next reboot; a changed tag value is applied again.
#
# Tags (the launch template needs MetadataOptions.InstanceMetadataTags = enabled):
#   NixStorePath       the system's store path, /nix/store/<hash>-<name> (the action's `store-path-tag`)
#   Substituters       optional: binary caches, space separated (s3://, https://, http://, file://), with no store
#                      settings but region, endpoint, scheme, profile and priority
#   TrustedPublicKeys  optional: keys that sign them, space separated, name:base64
# Both optional tags add to the substituters and keys the image's own Nix configuration already trusts.
#   AutoScalingGroupName, LifecycleHookName
#                      optional, together: the readiness gate (instance-refresh `readiness: lifecycle-hook` sets
#                      them). The group's launch hook keeps this instance in Pending:Wait until it reports: once it
#                      runs the tag's system and the health check below passes, CompleteLifecycleAction CONTINUE;
#                      on any failure, ABANDON (AWS terminates the instance and the refresh fails at once). The
#                      request is signed with the instance profile's credentials from instance metadata (curl
#                      --aws-sigv4, 7.75 or later), once per instance (a marker in the state folder).
#
# When anything fails, the reason goes to the log (the console output and the journal), the gate's lifecycle action
# (if any) is abandoned, and the instance powers off: a broken deploy must never leave a healthy-looking instance on
# the old image, or the instance refresh would count it as replaced and AutoRollback would never start. Nothing read
# from a tag is ever run as shell.
#
# Needs (checked first): bash, curl (7.75 or later with the gate), nix (2.8 or later: `nix store verify`), nix-store,
# nix-env, coreutils (timeout, readlink, mkdir, mv, sleep) and systemctl. NixOS runs user data with a short PATH that
# older images leave curl out of, so the system's own tool directories are searched after it.
#
# Settings: edit the defaults below, or set the variables in the environment.
set -euo pipefail
set -o errtrace
export LC_ALL=C
export PATH="${PATH:+$PATH:}/run/wrappers/bin:/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin"

: "${NIXOS_AWS_STORE_PATH_TAG:=NixStorePath}"
: "${NIXOS_AWS_SUBSTITUTERS_TAG:=Substituters}"
: "${NIXOS_AWS_KEYS_TAG:=TrustedPublicKeys}"
: "${NIXOS_AWS_GROUP_TAG:=AutoScalingGroupName}"
: "${NIXOS_AWS_HOOK_TAG:=LifecycleHookName}"
# How to boot the new system: kexec (fast, skips the firmware; falls back to reboot without kexec) or reboot.
: "${NIXOS_AWS_BOOT:=kexec}"
# On failure: poweroff, or stay (to look at a broken instance; it then counts as healthy).
: "${NIXOS_AWS_ON_FAILURE:=poweroff}"
: "${NIXOS_AWS_IMDS:=http://169.254.169.254}"
# Instance metadata can refuse, fail or not answer for a while early in boot: it is retried for this long.
: "${NIXOS_AWS_IMDS_WAIT_SECONDS:=120}"
# The whole fetch of the closure, however the caches behave (a cache that accepts and never answers included).
: "${NIXOS_AWS_FETCH_TIMEOUT_SECONDS:=900}"
: "${NIXOS_AWS_SYSTEM_PROFILE:=/nix/var/nix/profiles/system}"
: "${NIXOS_AWS_CURRENT_SYSTEM:=/run/current-system}"
# Which tag value was applied, kept across boots.
: "${NIXOS_AWS_STATE_DIR:=/var/lib/nixos-aws}"
# The last ways to power off: the kernel's sysrq `o`, then halt.
: "${NIXOS_AWS_SYSRQ_TRIGGER:=/proc/sysrq-trigger}"
: "${NIXOS_AWS_SYSRQ_WAIT_SECONDS:=30}"
# The health check before CONTINUE (the gate only), with the settings and semantics of ssm-deploy's document: units
# that must be active (space separated), an http URL on the instance itself that must answer 2xx, and how long both
# may take to pass (1-3600 s). Empty: only the running system is checked.
: "${NIXOS_AWS_HEALTH_CHECK_UNITS:=}"
: "${NIXOS_AWS_HEALTH_CHECK_URL:=}"
: "${NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS:=60}"
# How many times CompleteLifecycleAction is sent when it gets no answer, a 5xx or throttling, and how long each
# attempt may take.
: "${NIXOS_AWS_COMPLETE_ATTEMPTS:=5}"
: "${NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS:=15}"
# Tests only: where CompleteLifecycleAction goes instead of https://autoscaling.<region>.amazonaws.com. The region
# comes from instance metadata and is checked; nothing read from a tag can choose where the signed request goes.
: "${NIXOS_AWS_AUTOSCALING_ENDPOINT:=}"

# The same pattern as the action's store-path input (shared/store-path.ts).
STORE_PATH_PATTERN='^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$'
# The same rule as every store URI input (shared/store-uri.ts, SUBSTITUTER): a cache's location and only the settings
# on its allow-list, so that `trusted=1` (no signature needed), `require-sigs`, `secret-key` and any setting this
# script does not know are refused.
SUBSTITUTER_PATTERN='^(s3|https|http|file)://[A-Za-z0-9._~:/%+,@-]+([?](region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*(&(region|endpoint|scheme|profile|priority)=[A-Za-z0-9._~:/%+,@-]*)*)?$'
# The same rule as every public key input (shared/store-uri.ts, PUBLIC_KEY): names of inert characters only.
PUBLIC_KEY_PATTERN='^[A-Za-z0-9._+@-]+:[A-Za-z0-9+/]{43}=$'
# The Auto Scaling API's own pattern for a lifecycle hook name (AsciiStringMaxLen255); group names as well, plus the
# dot (the API takes almost any text there: a group whose name has others cannot use the gate).
HOOK_NAME_PATTERN='^[A-Za-z0-9/_-]{1,255}$'
GROUP_NAME_PATTERN='^[A-Za-z0-9./_-]{1,255}$'
INSTANCE_ID_PATTERN='^i-[0-9a-f]{8,17}$'
REGION_PATTERN='^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$'
# An instance profile's role name (IAM's pattern), and the credentials instance metadata gives for it: characters
# that can neither end a quoted value of curl's configuration nor start another setting.
ROLE_NAME_PATTERN='^[A-Za-z0-9+=,.@_-]{1,64}$'
ACCESS_KEY_PATTERN='^[A-Z0-9]{16,128}$'
SECRET_KEY_PATTERN='^[A-Za-z0-9/+=]{16,128}$'
# (Its length, 16-8192, is checked apart: glibc compiles a bounded repeat that large for seconds.)
SESSION_TOKEN_PATTERN='^[A-Za-z0-9/+=]{16,}$'
# The health check settings, with the patterns of ssm-deploy's document parameters (nixos-deploy.parameters.json).
UNITS_PATTERN='^$|^[A-Za-z0-9:_.@-]{1,240}[.](service|socket|target|timer|mount|automount|path|swap|slice|scope|device)( [A-Za-z0-9:_.@-]{1,240}[.](service|socket|target|timer|mount|automount|path|swap|slice|scope|device))*$'
URL_PATTERN='^$|^http://(localhost|127[.]0[.]0[.]1)(:[0-9]{1,5})?(/[A-Za-z0-9._~:/?#@!&+,;=%-]*)?$'
TIMEOUT_PATTERN='^([1-9][0-9]{0,2}|[1-2][0-9]{3}|3[0-5][0-9]{2}|3600)$'
REQUIRED_TOOLS=(curl nix nix-store nix-env timeout readlink mkdir mv sleep systemctl)

log() { printf 'nixos-aws: %s\n' "$*" >&2; }

# A value read from a tag, quoted so that control characters cannot forge log lines.
shown() { printf '%q' "$1"; }

# Each way is tried only when the one before returned: a clean shutdown, then ways that no unit or inhibitor can
# refuse. Returns only when every one failed.
power_off() {
  if systemctl poweroff; then return 0; fi
  log 'systemctl poweroff failed: forcing the power off'
  systemctl poweroff --force --force
  log 'the forced power off failed: asking the kernel (sysrq o)'
  if printf o >"$NIXOS_AWS_SYSRQ_TRIGGER"; then sleep "$NIXOS_AWS_SYSRQ_WAIT_SECONDS"; fi
  log 'still running: halting'
  halt --force --force
  log 'EVERY WAY TO POWER OFF FAILED: stop this instance by hand'
  return 1
}

fail() {
  trap - ERR
  FAILING=1
  set +e
  log "FAILED: $*"
  if [ -n "$HOOK" ]; then
    log "abandoning the lifecycle action of hook $HOOK (group $GROUP), for the reason above"
    complete_lifecycle_action ABANDON ||
      log "could not complete the lifecycle action with ABANDON: $COMPLETE_PROBLEM (the hook's heartbeat timeout ends it)"
  fi
  if [ "$NIXOS_AWS_ON_FAILURE" = stay ]; then
    log 'NIXOS_AWS_ON_FAILURE=stay: leaving the instance running on its old system'
  else
    log 'powering off, so that this instance never counts as healthy'
    power_off
  fi
  exit 1
}
# Set once the gate's tags are read and checked: from then on a failure abandons the lifecycle action.
GROUP=
HOOK=
trap 'fail "command failed with status $? at line $LINENO: $BASH_COMMAND"' ERR
# What the ERR trap does not see (an unset variable under set -u, say) still ends in fail.
FAILING=
trap 'status=$?; [ "$status" = 0 ] || [ -n "$FAILING" ] || fail "the script stopped with status $status (the error above)"' EXIT

# A missing tool would otherwise look like something else (curl missing: instance metadata never answers).
for tool in "${REQUIRED_TOOLS[@]}"; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (or not on PATH: $PATH); this script needs ${REQUIRED_TOOLS[*]}"
done
# An older Nix lacks `nix store verify` and `path-info --json` as used below, and would fail there as if the
# system were unsigned: name the real cause instead.
nix_version=$(timeout 30 nix --version 2>/dev/null) || nix_version=
if [[ ! $nix_version =~ ([0-9]+)\.([0-9]+) ]] ||
  [ "${BASH_REMATCH[1]}" -lt 2 ] || { [ "${BASH_REMATCH[1]}" -eq 2 ] && [ "${BASH_REMATCH[2]}" -lt 8 ]; }; then
  fail "this script needs Nix 2.8 or later (NixOS 22.05 or later); nix --version says: $(shown "${nix_version:-nothing}")"
fi

IMDS_DEADLINE=$((SECONDS + NIXOS_AWS_IMDS_WAIT_SECONDS))
TOKEN=
# Status 1, with IMDS_PROBLEM, when no token came before the window's end.
imds_token() {
  until TOKEN=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$NIXOS_AWS_IMDS/latest/api/token"); do
    if [ "$SECONDS" -ge "$IMDS_DEADLINE" ]; then
      IMDS_PROBLEM="no instance metadata token from $NIXOS_AWS_IMDS within ${NIXOS_AWS_IMDS_WAIT_SECONDS} s"
      return 1
    fi
    sleep 1
  done
}

# Sets IMDS_VALUE to instance metadata's /latest/meta-data/$1 ($2 names it in messages). Status 1 when there is no
# such item (only a 404 says so); 2, with IMDS_PROBLEM, when the window ended first. Any other answer (401 even with
# a fresh token, 5xx, none at all) is retried with a new token until the window ends. Never calls fail, so that
# abandoning the lifecycle action on a failure can use it.
imds_get() {
  local answer status said
  while :; do
    if [ -z "$TOKEN" ]; then imds_token || return 2; fi
    if answer=$(curl -sS --max-time 5 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $TOKEN" \
      "$NIXOS_AWS_IMDS/latest/meta-data/$1"); then
      status=${answer##*$'\n'}
      IMDS_VALUE=${answer%$'\n'*}
    else
      status=000
    fi
    case $status in
      200) return 0 ;;
      404) return 1 ;;
    esac
    TOKEN=
    if [ "$status" = 000 ]; then said=nothing; else said="HTTP $status"; fi
    if [ "$SECONDS" -ge "$IMDS_DEADLINE" ]; then
      IMDS_PROBLEM="instance metadata answered $said for $2 until the end of its ${NIXOS_AWS_IMDS_WAIT_SECONDS} s window"
      return 2
    fi
    log "instance metadata answered $said for $2: retrying"
    sleep 1
  done
}

# Sets TAG_VALUE to the instance's tag $1; status 1 when the instance has no such tag.
read_tag() {
  local got=0
  imds_get "tags/instance/$1" "the tag $1" || got=$?
  case $got in
    0)
      TAG_VALUE=$IMDS_VALUE
      [[ ! $TAG_VALUE =~ [[:cntrl:]] ]] || fail "the $1 tag has control characters: $(shown "$TAG_VALUE")"
      ;;
    1) return 1 ;;
    *) fail "$IMDS_PROBLEM" ;;
  esac
}

# The value of the state $1 recorded at an earlier boot, or nothing.
state() {
  local file="$NIXOS_AWS_STATE_DIR/$1"
  if [ -f "$file" ]; then printf '%s' "$(<"$file")"; fi
}

record() {
  mkdir -p "$NIXOS_AWS_STATE_DIR"
  printf '%s\n' "$2" >"$NIXOS_AWS_STATE_DIR/$1.new"
  mv -f "$NIXOS_AWS_STATE_DIR/$1.new" "$NIXOS_AWS_STATE_DIR/$1"
}

# The health check's settings, held to the patterns of ssm-deploy's document before anything is asked.
setting() {
  [[ $2 =~ $3 ]] || fail "$1 must match $3 (the pattern of ssm-deploy's document parameter): $(shown "$2")"
}
setting NIXOS_AWS_HEALTH_CHECK_UNITS "$NIXOS_AWS_HEALTH_CHECK_UNITS" "$UNITS_PATTERN"
setting NIXOS_AWS_HEALTH_CHECK_URL "$NIXOS_AWS_HEALTH_CHECK_URL" "$URL_PATTERN"
setting NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS "$NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS" "$TIMEOUT_PATTERN"
setting NIXOS_AWS_COMPLETE_ATTEMPTS "$NIXOS_AWS_COMPLETE_ATTEMPTS" '^([1-9]|10)$'
setting NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS "$NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS" '^([1-9]|[1-5][0-9]|60)$'
read -r -a unit_list <<<"$NIXOS_AWS_HEALTH_CHECK_UNITS"
url=$NIXOS_AWS_HEALTH_CHECK_URL
health_timeout=$NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS

# >>> shared/health.sh: health_check and http_ok, copied by npm run build; edit them there, not here
# Passes once every unit is active and the URL answers 2xx, each within the timeout.
health_check() {
  local deadline=$((SECONDS + health_timeout)) unit
  for unit in ${unit_list[@]+"${unit_list[@]}"}; do
    until systemctl is-active --quiet -- "$unit"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "Unit $unit is $(systemctl is-active -- "$unit") after ${health_timeout} s"
        return 1
      fi
      sleep 1
    done
    log "Unit $unit is active"
  done
  if [ -n "$url" ]; then
    until http_ok "$url"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "$url did not answer 2xx within ${health_timeout} s"
        return 1
      fi
      sleep 1
    done
    log "$url answers 2xx"
  fi
}

# Plain HTTP to the loopback interface through bash's own /dev/tcp: no curl needed on the instance.
http_ok() {
  local pattern='^http://(localhost|127[.]0[.]0[.]1)(:([0-9]{1,5}))?(/[^#]*)?' host port path status
  [[ $1 =~ $pattern ]] || return 1
  host=${BASH_REMATCH[1]}
  port=${BASH_REMATCH[3]:-80}
  path=${BASH_REMATCH[4]:-/}
  status=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/$host/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$path" "$host" "$port" >&3
    IFS= read -r -t 5 line <&3 && printf '%s' "$line"
  )
  [[ $status =~ ^HTTP/1[.][01]\ 2[0-9][0-9] ]]
}
# <<< shared/health.sh

# Reads the readiness gate's tags. Neither: no gate (readiness `none`). Both, each matching its pattern: sets GROUP
# and HOOK, so that from here on every failure abandons the lifecycle action. Anything else fails (and powers off
# without abandoning: a value that fails its pattern is never sent anywhere).
read_gate() {
  local group='' hook='' version
  if read_tag "$NIXOS_AWS_GROUP_TAG"; then group=$TAG_VALUE; fi
  if read_tag "$NIXOS_AWS_HOOK_TAG"; then hook=$TAG_VALUE; fi
  if [ -z "$group" ] && [ -z "$hook" ]; then return 0; fi
  if [ -z "$group" ] || [ -z "$hook" ]; then
    fail "the readiness gate needs both the $NIXOS_AWS_GROUP_TAG and the $NIXOS_AWS_HOOK_TAG tag, and the instance has only one"
  fi
  [[ $group =~ $GROUP_NAME_PATTERN ]] ||
    fail "the $NIXOS_AWS_GROUP_TAG tag is not an Auto Scaling group name (1-255 of A-Z a-z 0-9 . / _ -): $(shown "$group")"
  [[ $hook =~ $HOOK_NAME_PATTERN ]] ||
    fail "the $NIXOS_AWS_HOOK_TAG tag is not a lifecycle hook name (1-255 of A-Z a-z 0-9 / _ -): $(shown "$hook")"
  # --aws-sigv4 came with curl 7.75.
  version=$(curl --version 2>/dev/null) || version=
  if [[ ! $version =~ ^curl\ ([0-9]+)\.([0-9]+) ]] ||
    [ "${BASH_REMATCH[1]}" -lt 7 ] || { [ "${BASH_REMATCH[1]}" -eq 7 ] && [ "${BASH_REMATCH[2]}" -lt 75 ]; }; then
    fail "the readiness gate needs curl 7.75 or later (--aws-sigv4); curl --version says: $(shown "${version%%$'\n'*}")"
  fi
  GROUP=$group
  HOOK=$hook
  log "readiness gate: lifecycle hook $HOOK of group $GROUP"
}

# Sets IMDS_VALUE to the metadata item $1 ($2 names it) when it matches the pattern $3; else status 1 with
# COMPLETE_PROBLEM.
imds_checked() {
  local got=0
  imds_get "$1" "$2" || got=$?
  case $got in
    0) ;;
    1) COMPLETE_PROBLEM="instance metadata has no $2 (404)" && return 1 ;;
    *) COMPLETE_PROBLEM=$IMDS_PROBLEM && return 1 ;;
  esac
  [[ $IMDS_VALUE =~ $3 ]] || { COMPLETE_PROBLEM="instance metadata's $2 does not match $3: $(shown "$IMDS_VALUE")" && return 1; }
}

# Sets JSON_FIELD to the string field $2 of the JSON object $1 when it matches the pattern $3. The credentials
# document is flat and its values hold no escapes, so a pattern finds them; nothing else of it is used.
json_field() {
  local find="\"$2\"[[:space:]]*:[[:space:]]*\"([^\"]*)\""
  [[ $1 =~ $find ]] || return 1
  JSON_FIELD=${BASH_REMATCH[1]}
  [[ $JSON_FIELD =~ $3 ]]
}

# Completes this instance's lifecycle action of the gate's hook with $1 (CONTINUE or ABANDON), at most once per
# instance (the marker lifecycle-action in the state folder, written once Auto Scaling answered). Sends
# CompleteLifecycleAction (Query protocol) to the region's Auto Scaling endpoint, signed by curl with the instance
# profile's credentials from instance metadata; the secret key and the session token reach curl through its
# configuration on a pipe, never its command line. No answer, a 5xx or throttling is retried, each attempt within
# NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS, NIXOS_AWS_COMPLETE_ATTEMPTS times in all, 1 s more apart each time. Status 0 when Auto Scaling took the result or had no action waiting
# (the action already ended: by a timeout, or from elsewhere); 1 with COMPLETE_PROBLEM otherwise. Never calls fail.
complete_lifecycle_action() {
  local result=$1 instance_id region role credentials key secret session endpoint body answer status code message attempt
  if [ -f "$NIXOS_AWS_STATE_DIR/lifecycle-action" ]; then
    log "the lifecycle action was completed before ($(state lifecycle-action)): not again"
    return 0
  fi
  # A window of its own: the health check may have outlasted the first one.
  IMDS_DEADLINE=$((SECONDS + NIXOS_AWS_IMDS_WAIT_SECONDS))
  imds_checked instance-id 'instance ID' "$INSTANCE_ID_PATTERN" || return 1
  instance_id=$IMDS_VALUE
  imds_checked placement/region region "$REGION_PATTERN" || return 1
  region=$IMDS_VALUE
  imds_checked iam/security-credentials/ 'instance profile role' "$ROLE_NAME_PATTERN" || return 1
  role=$IMDS_VALUE
  imds_checked "iam/security-credentials/$role" "credentials of the role $role" '^[[:print:][:space:]]*$' || return 1
  credentials=$IMDS_VALUE
  json_field "$credentials" Code '^Success$' ||
    { COMPLETE_PROBLEM="instance metadata has no usable credentials for the role $role (Code is not Success)" && return 1; }
  COMPLETE_PROBLEM="the credentials of the role $role in instance metadata are not of the expected form"
  json_field "$credentials" AccessKeyId "$ACCESS_KEY_PATTERN" || return 1
  key=$JSON_FIELD
  json_field "$credentials" SecretAccessKey "$SECRET_KEY_PATTERN" || return 1
  secret=$JSON_FIELD
  json_field "$credentials" Token "$SESSION_TOKEN_PATTERN" && [ "${#JSON_FIELD}" -le 8192 ] || return 1
  session=$JSON_FIELD
  if [ -n "$NIXOS_AWS_AUTOSCALING_ENDPOINT" ]; then
    endpoint=$NIXOS_AWS_AUTOSCALING_ENDPOINT
  elif [[ $region == cn-* ]]; then
    endpoint="https://autoscaling.$region.amazonaws.com.cn"
  else
    endpoint="https://autoscaling.$region.amazonaws.com"
  fi
  body="Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=${GROUP//\//%2F}"
  body+="&LifecycleHookName=${HOOK//\//%2F}&InstanceId=$instance_id&LifecycleActionResult=$result"
  for ((attempt = 1; ; attempt++)); do
    log "CompleteLifecycleAction $result: hook $HOOK, group $GROUP, instance $instance_id, $endpoint (attempt $attempt)"
    if answer=$(curl -sS --connect-timeout 5 --max-time "$NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS" -w '\n%{http_code}' --aws-sigv4 "aws:amz:$region:autoscaling" \
      -K <(printf 'user = "%s:%s"\nheader = "X-Amz-Security-Token: %s"\n' "$key" "$secret" "$session") \
      --data-binary "$body" "$endpoint/"); then
      status=${answer##*$'\n'}
      answer=${answer%$'\n'*}
    else
      status=000
      answer=
    fi
    code=
    message=
    if [[ $answer =~ \<Code\>([A-Za-z.]{1,100})\</Code\> ]]; then code=${BASH_REMATCH[1]}; fi
    if [[ $answer =~ \<Message\>([^\<]{0,300}) ]]; then message=${BASH_REMATCH[1]//[[:cntrl:]]/ }; fi
    if [ "$status" = 200 ]; then
      record lifecycle-action "$result $GROUP $HOOK $instance_id"
      log "Auto Scaling took $result for instance $instance_id"
      return 0
    fi
    if [ "$code" = ValidationError ] && [[ $message == 'No active Lifecycle Action found'* ]]; then
      record lifecycle-action "none waiting ($result not sent) $GROUP $HOOK $instance_id"
      log "Auto Scaling has no lifecycle action waiting for $instance_id (it ended already): $message"
      return 0
    fi
    COMPLETE_PROBLEM="Auto Scaling answered $([ "$status" = 000 ] && echo nothing || echo "HTTP $status ${code:-without an error code}${message:+: $message}")"
    case $status:$code in
      000:* | 5??:* | 4??:Throttling) ;;
      *) return 1 ;;
    esac
    if [ "$attempt" -ge "$NIXOS_AWS_COMPLETE_ATTEMPTS" ]; then
      COMPLETE_PROBLEM+=" ($attempt attempts)"
      return 1
    fi
    log "$COMPLETE_PROBLEM: retrying"
    sleep "$attempt"
  done
}

# The second run, on the booted system: reports it ready through the gate, once. Fails (and so abandons) when the
# running system is not the tag's, or the health check does not pass.
report_ready() {
  local running
  [ -n "$HOOK" ] || return 0
  if [ -f "$NIXOS_AWS_STATE_DIR/lifecycle-action" ]; then
    log "the lifecycle action was completed before ($(state lifecycle-action)): not again"
    return 0
  fi
  running=$(readlink -f "$NIXOS_AWS_CURRENT_SYSTEM" || true)
  [ "$running" = "$store_path" ] ||
    fail "the running system is ${running:-unknown}, not $store_path of the $NIXOS_AWS_STORE_PATH_TAG tag"
  health_check || fail "the health check of $store_path did not pass within ${health_timeout} s"
  complete_lifecycle_action CONTINUE || fail "could not complete the lifecycle action with CONTINUE: $COMPLETE_PROBLEM"
  log "running $store_path, healthy: reported ready (CONTINUE)"
}

# The store path tag is read first and checked after the gate's tags, so that a missing or wrong one abandons too.
if read_tag "$NIXOS_AWS_STORE_PATH_TAG"; then store_path=$TAG_VALUE; else store_path=; fi
read_gate
[ -n "$store_path" ] ||
  fail "the instance has no $NIXOS_AWS_STORE_PATH_TAG tag (or the launch template does not enable InstanceMetadataTags)"
[[ $store_path =~ $STORE_PATH_PATTERN ]] ||
  fail "the $NIXOS_AWS_STORE_PATH_TAG tag is not a store path: $(shown "$store_path")"

current=$(readlink -f "$NIXOS_AWS_CURRENT_SYSTEM" || true)
if [ "$(state applied-store-path)" = "$store_path" ]; then
  # Still running it (a reboot before the report went out, say): report it, unless that was done already.
  if [ "$current" = "$store_path" ]; then report_ready; fi
  log "the $NIXOS_AWS_STORE_PATH_TAG tag still names $store_path, applied at an earlier boot: nothing to do" \
    "(running ${current:-an unknown system}; a system switched to in place since then stays)"
  exit 0
fi
if [ "$current" = "$store_path" ]; then
  record applied-store-path "$store_path"
  log "running $store_path already: nothing to do${HOOK:+ but report it ready}"
  report_ready
  exit 0
fi
if [ "$(state booting-store-path)" = "$store_path" ]; then
  fail "this instance was booted into $store_path but came up on ${current:-an unknown system}"
fi

substituters=()
if read_tag "$NIXOS_AWS_SUBSTITUTERS_TAG"; then
  read -r -a substituters <<<"$TAG_VALUE"
fi
for substituter in "${substituters[@]}"; do
  [[ $substituter =~ $SUBSTITUTER_PATTERN ]] ||
    fail "the $NIXOS_AWS_SUBSTITUTERS_TAG tag has a substituter this script does not use (a cache URI with no settings but region, endpoint, scheme, profile, priority): $(shown "$substituter")"
done

keys=()
if read_tag "$NIXOS_AWS_KEYS_TAG"; then
  read -r -a keys <<<"$TAG_VALUE"
fi
for key in "${keys[@]}"; do
  [[ $key =~ $PUBLIC_KEY_PATTERN ]] || fail "the $NIXOS_AWS_KEYS_TAG tag has a value that is not a public key: $(shown "$key")"
done

log "switching from ${current:-an unknown system} to $store_path"

# Signatures are checked whatever the image's nix.conf says; the tags only add caches and keys.
nix_options=(--option require-sigs true --option connect-timeout 15 --option stalled-download-timeout 60)
if [ "${#substituters[@]}" -gt 0 ]; then nix_options+=(--option extra-substituters "${substituters[*]}"); fi
if [ "${#keys[@]}" -gt 0 ]; then nix_options+=(--option extra-trusted-public-keys "${keys[*]}"); fi
caches="${substituters[*]:+${substituters[*]} and }the image's own substituters"

if timeout --kill-after=10 "$NIXOS_AWS_FETCH_TIMEOUT_SECONDS" nix-store "${nix_options[@]}" --realise "$store_path" >/dev/null; then
  :
else
  status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    fail "fetching $store_path from $caches did not finish within ${NIXOS_AWS_FETCH_TIMEOUT_SECONDS} s"
  fi
  fail "could not fetch $store_path with a valid signature from $caches"
fi
# Nothing of the path has run yet, fetched or already in the store (the image's own systems, say), and nothing has
# checked a path that was not fetched. Nix takes a content-addressed path as its own proof: it fetches one with no
# signature even with require-sigs, and `nix store verify --sigs-needed 1` passes it. A NixOS system is
# input-addressed, so a `ca` is refused; then a signature under a trusted key's name must be there, and Nix's own
# check must pass it.
path_info=$(timeout 120 nix --extra-experimental-features nix-command path-info --json "${nix_options[@]}" "$store_path")
# A `"` inside a JSON string is escaped, so `"ca":` and `,"<name>:` are found only as a key and as a string's start.
# Nix 2.19 and later write `"ca":null` for an input-addressed path.
! [[ $path_info =~ \"ca\":[[:space:]]*[^[:space:]n] ]] ||
  fail "$store_path is content-addressed (nix path-info shows a ca), which Nix takes with no signature: a NixOS system is input-addressed, so it must be signed by a trusted key"
trusted=()
while IFS= read -r setting; do
  case $setting in 'trusted-public-keys = '*) read -r -a trusted <<<"${setting#* = }" ;; esac
done < <(timeout 120 nix --extra-experimental-features nix-command show-config "${nix_options[@]}")
signatures=
if [[ $path_info == *'"signatures":['* ]]; then
  signatures=${path_info#*'"signatures":['}
  signatures=",${signatures%%]*}"
fi
signed_by=
for key in ${trusted[@]+"${trusted[@]}"}; do
  if [[ $signatures == *',"'"${key%%:*}:"* ]]; then signed_by=${key%%:*}; fi
done
[ -n "$signed_by" ] ||
  fail "$store_path has no valid signature by a trusted key (none under a trusted key's name): present in the store or fetched, a system must be signed"
verify_status=0
timeout 120 nix --extra-experimental-features nix-command store verify --no-contents --sigs-needed 1 \
  "${nix_options[@]}" "$store_path" || verify_status=$?
[ "$verify_status" -ne 124 ] || fail "nix store verify of $store_path did not finish within 120 s"
[ "$verify_status" -eq 0 ] ||
  fail "$store_path has no valid signature by a trusted key: present in the store or fetched, a system must be signed"
[ -x "$store_path/bin/switch-to-configuration" ] || fail "$store_path is not a NixOS system (no bin/switch-to-configuration)"

timeout 300 nix-env --profile "$NIXOS_AWS_SYSTEM_PROFILE" --set "$store_path"
# Installs the boot loader entry; bounded like every step, so that a hang powers off rather than leaving the instance up.
timeout 600 "$store_path/bin/switch-to-configuration" boot
# The next run finds this instance on that system and records the tag value as applied; should the boot come up on
# another system instead, the next run fails rather than booting it again and again.
record booting-store-path "$store_path"

if [ "$NIXOS_AWS_BOOT" = kexec ] && ! command -v kexec >/dev/null; then
  log 'kexec is not installed: rebooting instead'
  NIXOS_AWS_BOOT=reboot
fi
case $NIXOS_AWS_BOOT in
  kexec)
    log "booting $store_path with kexec"
    kexec --load "$store_path/kernel" --initrd="$store_path/initrd" \
      --command-line="init=$store_path/init $(<"$store_path/kernel-params")"
    systemctl kexec
    ;;
  reboot)
    log "rebooting into $store_path"
    systemctl reboot
    ;;
  *) fail "NIXOS_AWS_BOOT must be kexec or reboot, not $(shown "$NIXOS_AWS_BOOT")" ;;
esac
