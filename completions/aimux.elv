
use builtin;
use str;

set edit:completion:arg-completer[aimux] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'aimux'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'aimux'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand bridge 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
            cand proxy 'Serve the credential-holding router: Chat Completions routed by model to providers'
            cand models 'List the models the proxy can route to, and which provider serves each'
            cand usage 'Usage per day and per model from the usage store'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;bridge'= {
            cand --host 'Address to bind [env: AIMUX_BRIDGE_HOST] [default: 127.0.0.1]. A non-loopback address needs a token'
            cand --port 'Port to bind; 0 picks a free one [env: AIMUX_BRIDGE_PORT] [default: 8403]'
            cand --upstream 'Chat Completions base URL, e.g. http://127.0.0.1:8404/v1 (the bridge posts to `{URL}/chat/completions`) [env: AIMUX_UPSTREAM] [default: http://127.0.0.1:8404/v1]'
            cand --server-info 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections'
            cand --token 'Require `Authorization: Bearer T` from clients [env: AIMUX_TOKEN]'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;proxy'= {
            cand --host 'Address to bind [env: AIMUX_PROXY_HOST] [default: 127.0.0.1]. A non-loopback address needs a token'
            cand --port 'Port to bind; 0 picks a free one [env: AIMUX_PROXY_PORT] [default: 8404]'
            cand --server-info 'Write `{"pid","port","url"}` as one JSON line to FILE once accepting connections'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;models'= {
            cand --json 'Print JSON (the proxy''s `/v1/models` list) instead of a table'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;usage'= {
            cand --days 'How many days back, today included'
            cand --json 'Print JSON instead of tables'
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;completions'= {
            cand -v 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand --verbose 'More log output on stderr (-v debug, -vv trace). `AIMUX_LOG` takes a full filter'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aimux;help'= {
            cand bridge 'Serve the Responses API (what Codex speaks) in front of a Chat Completions upstream'
            cand proxy 'Serve the credential-holding router: Chat Completions routed by model to providers'
            cand models 'List the models the proxy can route to, and which provider serves each'
            cand usage 'Usage per day and per model from the usage store'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aimux;help;bridge'= {
        }
        &'aimux;help;proxy'= {
        }
        &'aimux;help;models'= {
        }
        &'aimux;help;usage'= {
        }
        &'aimux;help;completions'= {
        }
        &'aimux;help;help'= {
        }
    ]
    $completions[$command]
}
