#!/bin/bash
# JumpCloud's System Context example script, for muster: only /opt/jc is
# replaced by the agent's state dir and the console URL by your server.
# Usage: system-context.sh [METHOD] [PATH] [JSON-BODY]
#   system-context.sh                                    # GET this system's record
#   system-context.sh PUT '/api/systems/${systemKey}' '{"displayName":"web-7"}'
# Must run as root (or a user who can read the state dir's client.key).
state="${MUSTER_STATE_DIR:-/var/lib/muster-agent}"
server="${MUSTER_SERVER:?set MUSTER_SERVER to the muster server URL, e.g. https://muster.example.com}"
method="${1:-GET}"

conf="`cat $state/agent.conf`"
regex="systemKey\":\"(\w+)\""
if [[ $conf =~ $regex ]] ; then
systemKey="${BASH_REMATCH[1]}"
fi
path="${2:-/api/systems/\${systemKey\}}"
path="${path//\$\{systemKey\}/$systemKey}"
now=`LC_ALL=C date -u "+%a, %d %h %Y %H:%M:%S GMT"`;
signstr="${method} ${path} HTTP/1.1\ndate: ${now}"
signature=`printf "$signstr" | openssl dgst -sha256 -sign $state/client.key | openssl enc -e -a | tr -d '\n'` ;
args=()
if [[ -n "$3" ]] ; then args=(-d "$3" -H "Content-Type: application/json") ; fi
curl -sS \
-X "$method" \
"${args[@]}" \
-H "Accept: application/json" \
-H "Date: ${now}" \
-H "Authorization: Signature keyId=\"system/${systemKey}\",headers=\"request-line date\",algorithm=\"rsa-sha256\",signature=\"${signature}\"" \
--url "${server%/}${path}"
