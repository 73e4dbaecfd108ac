# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_aimux_global_optspecs
    string join \n v/verbose h/help V/version
end

function __fish_aimux_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_aimux_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_aimux_using_subcommand
    set -l cmd (__fish_aimux_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c aimux -n "__fish_aimux_needs_command" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_needs_command" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "up" -d 'One shot: start the link in the background (or reuse it), set up Codex, check everything'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "bridge" -d 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "proxy" -d 'Serve the credential-holding router: Chat Completions routed by model to providers'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "models" -d 'List the models the proxy can route to, and which provider serves each'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "usage" -d 'Usage per day and per model from the usage store'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "start" -d 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "stop" -d 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "status" -d 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "logs" -d 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "daemon" -d 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "setup" -d 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "gen-catalog" -d 'Build the Codex model catalog from the models aimux can route to'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "desktop" -d 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "websearch" -d 'Turn web search on or off, for aimux and for `codex -p aimux`'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "env" -d 'Print shell exports that point OpenAI-compatible tools at the bridge'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "doctor" -d 'Check the whole link, read-only: Codex, its profile and catalog, aimux\'s config, the bridge, the proxy, each provider, and one real round trip'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand up" -l model -d 'The default model for `codex -p aimux` (as `aimux setup --model`): a routable id such as `provider/model`. Without it, the profile\'s model is kept if still routable' -r
complete -c aimux -n "__fish_aimux_using_subcommand up" -l offline -d 'Check without the round trip and without probing providers beyond this machine'
complete -c aimux -n "__fish_aimux_using_subcommand up" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand up" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -l host -d 'Address to bind [env: AIMUX_BRIDGE_HOST] [default: 127.0.0.1]. A non-loopback address needs a token' -r
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -l port -d 'Port to bind; 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]' -r
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -l upstream -d 'Chat Completions base URL, e.g. http://127.0.0.1:8404/v1 (the bridge posts to `{URL}/chat/completions`) [env: AIMUX_UPSTREAM] [default: http://127.0.0.1:8404/v1]' -r
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -l server-info -d 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections' -r -F
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -l token -d 'Require `Authorization: Bearer T` from clients [env: AIMUX_TOKEN]' -r
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand bridge" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -l host -d 'Address to bind [env: AIMUX_PROXY_HOST] [default: 127.0.0.1]. A non-loopback address needs a token' -r
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -l port -d 'Port to bind; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]' -r
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -l server-info -d 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections' -r -F
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand proxy" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand models" -l json -d 'Print JSON (the proxy\'s `/v1/models` list) instead of a table'
complete -c aimux -n "__fish_aimux_using_subcommand models" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand models" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand models" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand usage" -l days -d 'How many days back, today included' -r
complete -c aimux -n "__fish_aimux_using_subcommand usage" -l json -d 'Print JSON instead of tables'
complete -c aimux -n "__fish_aimux_using_subcommand usage" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand usage" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand usage" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand start" -l bridge-port -d 'Port for the bridge (what Codex and other tools talk to); 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]' -r
complete -c aimux -n "__fish_aimux_using_subcommand start" -l proxy-port -d 'Port for the proxy; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]' -r
complete -c aimux -n "__fish_aimux_using_subcommand start" -l detach -d 'Run the supervisor in the background; return once both children are ready'
complete -c aimux -n "__fish_aimux_using_subcommand start" -l detached-child -d 'Internal: this process is the background supervisor started by `--detach`'
complete -c aimux -n "__fish_aimux_using_subcommand start" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand start" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand stop" -l timeout -d 'Seconds to wait for a graceful stop before killing the processes' -r
complete -c aimux -n "__fish_aimux_using_subcommand stop" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand stop" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand status" -l json -d 'Print JSON on stdout instead of text'
complete -c aimux -n "__fish_aimux_using_subcommand status" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand status" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand logs" -s n -l lines -d 'How many of the last lines to show first' -r
complete -c aimux -n "__fish_aimux_using_subcommand logs" -s f -l follow -d 'Keep printing new lines as they are written (Ctrl-C to quit)'
complete -c aimux -n "__fish_aimux_using_subcommand logs" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand logs" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -f -a "install" -d 'Write the user service (no secrets in it), enable it at login and start it'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -f -a "uninstall" -d 'Stop and disable the user service and remove its file'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -f -a "status" -d 'What the service manager says about the aimux service'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and not __fish_seen_subcommand_from install uninstall status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from install" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "install" -d 'Write the user service (no secrets in it), enable it at login and start it'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Stop and disable the user service and remove its file'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'What the service manager says about the aimux service'
complete -c aimux -n "__fish_aimux_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand setup" -l model -d 'The default model: a routable id (`provider/model`, a route or `aimux:AGENT`; a bare model id works when one provider serves it). Without it, the profile\'s current model is kept if still routable, else the catalog\'s first' -r
complete -c aimux -n "__fish_aimux_using_subcommand setup" -l catalog -d 'Where Codex reads the catalog: `file` (model_catalog_json) or `url` (the bridge\'s `/v1/aimux/catalog`, via model_catalog_url) [default: what the profile uses, else file]' -r -f -a "file\t'`model_catalog_json = "$CODEX_HOME/aimux-catalog.json"`'
url\t'`model_catalog_url` = the bridge\'s `/v1/aimux/catalog` (always current; needs the bridge running when Codex starts)'"
complete -c aimux -n "__fish_aimux_using_subcommand setup" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand setup" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand gen-catalog" -l out -d 'Where to write the catalog (`-` for stdout) [default: $CODEX_HOME/aimux-catalog.json]' -r -F
complete -c aimux -n "__fish_aimux_using_subcommand gen-catalog" -l check -d 'Write nothing; exit 1 when the file differs from what would be written'
complete -c aimux -n "__fish_aimux_using_subcommand gen-catalog" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand gen-catalog" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand gen-catalog" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and not __fish_seen_subcommand_from on off status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from on" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from on" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from on" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from off" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from off" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from off" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
complete -c aimux -n "__fish_aimux_using_subcommand desktop; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and not __fish_seen_subcommand_from on off status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from on" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from on" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from on" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from off" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from off" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from off" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from help" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from help" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from help" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
complete -c aimux -n "__fish_aimux_using_subcommand websearch; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand env" -l shell -d 'Shell syntax [default: fish when $SHELL is fish, else bash/zsh]' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c aimux -n "__fish_aimux_using_subcommand env" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand env" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand doctor" -l json -d 'Print the report as JSON on stdout: `{schema_version, aimux_version, status, offline, counts, checks: [{id, status, summary, details, hint}]}`'
complete -c aimux -n "__fish_aimux_using_subcommand doctor" -l offline -d 'Skip the round trip and the probes of providers beyond this machine (no request leaves it, no tokens are spent)'
complete -c aimux -n "__fish_aimux_using_subcommand doctor" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "up" -d 'One shot: start the link in the background (or reuse it), set up Codex, check everything'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "bridge" -d 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "proxy" -d 'Serve the credential-holding router: Chat Completions routed by model to providers'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "models" -d 'List the models the proxy can route to, and which provider serves each'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "usage" -d 'Usage per day and per model from the usage store'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "start" -d 'Start the proxy and the bridge, supervised: restarted when they crash, stopped together'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "stop" -d 'Stop the running `aimux start`: its children drain in-flight requests, then everything exits'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "status" -d 'Is aimux running? Pids, uptime, URLs, health, providers, restarts, requests served'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "logs" -d 'Show the logs of the supervised children (`$AIMUX_HOME/logs/`)'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "daemon" -d 'Run `aimux start` at login as a user service (systemd on Linux, launchd on macOS)'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "setup" -d 'Write the Codex profile and model catalog, so `codex -p aimux` uses aimux'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "gen-catalog" -d 'Build the Codex model catalog from the models aimux can route to'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "desktop" -d 'Point Codex Desktop (the base `$CODEX_HOME/config.toml`) at aimux, or back'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "websearch" -d 'Turn web search on or off, for aimux and for `codex -p aimux`'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "env" -d 'Print shell exports that point OpenAI-compatible tools at the bridge'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "doctor" -d 'Check the whole link, read-only: Codex, its profile and catalog, aimux\'s config, the bridge, the proxy, each provider, and one real round trip'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from up bridge proxy models usage start stop status logs daemon setup gen-catalog desktop websearch env doctor completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "install" -d 'Write the user service (no secrets in it), enable it at login and start it'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "uninstall" -d 'Stop and disable the user service and remove its file'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'What the service manager says about the aimux service'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from desktop" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from desktop" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from desktop" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from websearch" -f -a "on" -d 'Switch it on'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from websearch" -f -a "off" -d 'Switch it off'
complete -c aimux -n "__fish_aimux_using_subcommand help; and __fish_seen_subcommand_from websearch" -f -a "status" -d 'Print `on` or `off` (details on stderr)'
