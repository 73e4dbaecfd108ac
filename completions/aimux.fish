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
complete -c aimux -n "__fish_aimux_needs_command" -f -a "bridge" -d 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "proxy" -d 'Serve the credential-holding router: Chat Completions routed by model to providers'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "models" -d 'List the models the proxy can route to, and which provider serves each'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "usage" -d 'Usage per day and per model from the usage store'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c aimux -n "__fish_aimux_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
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
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aimux -n "__fish_aimux_using_subcommand completions" -s V -l version -d 'Print version'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "bridge" -d 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "proxy" -d 'Serve the credential-holding router: Chat Completions routed by model to providers'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "models" -d 'List the models the proxy can route to, and which provider serves each'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "usage" -d 'Usage per day and per model from the usage store'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c aimux -n "__fish_aimux_using_subcommand help; and not __fish_seen_subcommand_from bridge proxy models usage completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
