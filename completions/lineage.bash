# bash completion for lineage
_lineage() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
  local commands="why tree watch record history"
  commands+=" files"
  commands+=" who"
  commands+=" kill"
  commands+=" top"
  commands+=" zombies snapshot"
  commands+=" audit"
  commands+=" doctor"
  commands+=" trace"
  local common="--json --no-color --help"
  local why_opts="--pid --name --port --file --container --exact --all --short --tree --env --wide --at --db --from"
  local tree_opts="-o --columns --sort --user --threads --kernel --compact --ascii --wide --width --pid --name --exact --at --db --from"
  local watch_opts="--source --pid --comm --user --container --event --threads --max-processes --max-threads --duration --interval"
  local record_opts="--db --source --keep --max-size --export --status --duration --interval --max-processes"
  local top_opts="--interval --by --limit --processes --watch --count --wide --sampler"
  local history_opts="--db --since --until --exe --user --limit --descendants --format"
  local files_opts="--pid --name --exact -t --type -i --net --deleted -m --maps --no-peers --wide"
  local file_types="reg dir chr blk fifo pipe lnk sock inet ipv4 ipv6 tcp udp unix netlink anon eventfd epoll signalfd timerfd inotify fanotify pidfd bpf bpf-map bpf-prog bpf-link io_uring userfaultfd perf_event memfd a_inode"
  local who_opts="--dir --mount --wide"
  local kill_opts="--tree --children --group --session --signal -s --timeout --yes -y --dry-run -n --force --no-freeze --pid --name --exact --ascii"
  local zombies_opts="--min --db --wide --from"
  local snapshot_opts="-o --output --force --history --db"
  local audit_opts="--rule --skip --min-severity --fail-on --allow --list-rules --wide"
  local trace_opts="-o --output --format --live --source --wide -e --events"
  local columns="pid ppid pgid sid user uid stat s etime etimes time %cpu %mem rss vsz tty nlwp ni lstart comm cmd exe cwd cgroup pidns mntns netns"
  case "$prev" in
    -o|--columns|--sort) COMPREPLY=($(compgen -W "$columns" -- "$cur")); return ;;
    -u|--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --pid|--descendants) COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur")); return ;;
    --file|--db|--export|--exe|--from|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --rule|--skip) COMPREPLY=($(compgen -W "$(lineage audit --list-rules 2>/dev/null | cut -d" " -f1)" -- "$cur")); return ;;
    --min-severity|--fail-on) COMPREPLY=($(compgen -W "info low medium high critical" -- "$cur")); return ;;
    --allow) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --keep) COMPREPLY=($(compgen -W "1d 7d 14d 30d" -- "$cur")); return ;;
    --max-size) COMPREPLY=($(compgen -W "500M 1G 4G" -- "$cur")); return ;;
    --at|--since|--until|--limit|--duration|--interval|--max-processes|--max-threads|--width|--name|--comm|--container|--port) return ;;
    -s|--signal) COMPREPLY=($(compgen -W "TERM INT HUP KILL QUIT USR1 USR2" -- "$cur")); return ;;
    --timeout) COMPREPLY=($(compgen -W "1s 5s 30s 2m" -- "$cur")); return ;;
    --by) COMPREPLY=($(compgen -W "context unit container user parent" -- "$cur")); return ;;
    --sampler) COMPREPLY=($(compgen -W "auto bpf proc" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "text json chrome" -- "$cur")); return ;;
    --processes|--count) return ;;
    --at|--since|--until|--limit|--min|--history|--duration|--interval|--max-processes|--max-threads|--width|--name|--comm|--container|--port) return ;;
    --source) COMPREPLY=($(compgen -W "auto bpf netlink poll" -- "$cur")); return ;;
    -t|--type) COMPREPLY=($(compgen -W "$file_types" -- "$cur")); return ;;
    -e|--events) COMPREPLY=($(compgen -W "file net file,net" -- "$cur")); return ;;
    --event) COMPREPLY=($(compgen -W "fork exec exit fork,exec exec,exit fork,exec,exit" -- "$cur")); return ;;
  esac
  local sub=""
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case " $commands " in *" $w "*) sub=$w; break ;; esac
  done
  if [ -z "$sub" ] && [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --version --help" -- "$cur")); return
  fi
  case "$sub" in
    tree) COMPREPLY=($(compgen -W "$tree_opts $common" -- "$cur")) ;;
    watch) COMPREPLY=($(compgen -W "$watch_opts $common" -- "$cur")) ;;
    record) COMPREPLY=($(compgen -W "$record_opts $common" -- "$cur")) ;;
    history) COMPREPLY=($(compgen -W "$history_opts $common" -- "$cur")) ;;
    files) COMPREPLY=($(compgen -W "$files_opts $common" -- "$cur")) ;;
    who) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$who_opts $common" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi ;;
    kill) COMPREPLY=($(compgen -W "$kill_opts $common" -- "$cur")) ;;
    top) COMPREPLY=($(compgen -W "$top_opts $common" -- "$cur")) ;;
    zombies) COMPREPLY=($(compgen -W "$zombies_opts $common" -- "$cur")) ;;
    audit) COMPREPLY=($(compgen -W "$audit_opts $common" -- "$cur")) ;;
    doctor) COMPREPLY=($(compgen -W "--db $common" -- "$cur")) ;;
    snapshot) COMPREPLY=($(compgen -W "$snapshot_opts $common" -- "$cur")) ;;
    trace)
      # After --: the command, then its own arguments (files).
      local i dashdash=0
      for ((i = 2; i < COMP_CWORD; i++)); do [ "${COMP_WORDS[i]}" = "--" ] && dashdash=$i; done
      if [ "$dashdash" -gt 0 ] && [ $((COMP_CWORD - dashdash)) -eq 1 ]; then COMPREPLY=($(compgen -c -- "$cur"))
      elif [ "$dashdash" -gt 0 ]; then COMPREPLY=($(compgen -f -- "$cur"))
      else COMPREPLY=($(compgen -W "$trace_opts -- $common" -- "$cur")); fi ;;
    *) COMPREPLY=($(compgen -W "$why_opts $common" -- "$cur")) ;;
  esac
}
complete -F _lineage lineage
