# shellcheck shell=bash
# shellcheck disable=SC2154 # unit_list, url and health_timeout are set by the script this is copied into
# The health check of a deploy, one text for both instance scripts: ssm-deploy/nixos-deploy.sh (the NixOS-Deploy
# document) runs it after a switch, instance-refresh/user-data.sh before the readiness gate's CONTINUE, so that an
# in-place deploy and the gate pass the same instance alike. An instance gets one self-contained script, so this
# file is never sourced: `npm run build` (scripts/shell-fragments.mjs) copies what follows the first blank line
# between the `# >>> shared/health.sh` and `# <<< shared/health.sh` lines of each, and CI fails on a stale copy.
#
# The script it is copied into defines log (one line to its log) and, before health_check runs, sets:
#   unit_list       array of systemd units that must be active, possibly empty
#   url             empty, or an http:// URL on the loopback interface that must answer 2xx
#   health_timeout  whole seconds (1-3600) that the units and the URL may take together

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
