# bash completion for lineage
_lineage() {
  local cur prev words cword
  _init_completion 2>/dev/null || { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
  local commands="why tree watch record history zombies snapshot"
  local common="--json --no-color --help"
  local why_opts="--pid --name --port --file --container --exact --all --short --tree --env --wide --at --db --from"
  local tree_opts="-o --columns --sort --user --threads --kernel --compact --ascii --wide --width --pid --name --exact --at --db --from"
  local watch_opts="--source --pid --comm --user --container --event --threads --max-processes --max-threads --duration --interval"
  local record_opts="--db --source --keep --max-size --export --status --duration --interval --max-processes"
  local history_opts="--db --since --until --exe --user --limit --descendants"
  local zombies_opts="--min --db --wide --from"
  local snapshot_opts="-o --output --force --history --db"
  local columns="pid ppid pgid sid user uid stat s etime etimes time %cpu %mem rss vsz tty nlwp ni lstart comm cmd exe cwd cgroup pidns mntns netns"
  case "$prev" in
    -o|--columns|--sort) COMPREPLY=($(compgen -W "$columns" -- "$cur")); return ;;
    -u|--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --pid|--descendants) COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" -- "$cur")); return ;;
    --file|--db|--export|--exe|--from|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --keep) COMPREPLY=($(compgen -W "1d 7d 14d 30d" -- "$cur")); return ;;
    --max-size) COMPREPLY=($(compgen -W "500M 1G 4G" -- "$cur")); return ;;
    --at|--since|--until|--limit|--min|--history|--duration|--interval|--max-processes|--max-threads|--width|--name|--comm|--container|--port) return ;;
    --source) COMPREPLY=($(compgen -W "auto bpf netlink poll" -- "$cur")); return ;;
    --event) COMPREPLY=($(compgen -W "fork exec exit fork,exec exec,exit fork,exec,exit" -- "$cur")); return ;;
  esac
  local sub=""
  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in why|tree|watch|record|history|zombies|snapshot) sub=$w; break ;; esac
  done
  if [ -z "$sub" ] && [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --version --help" -- "$cur")); return
  fi
  case "$sub" in
    tree) COMPREPLY=($(compgen -W "$tree_opts $common" -- "$cur")) ;;
    watch) COMPREPLY=($(compgen -W "$watch_opts $common" -- "$cur")) ;;
    record) COMPREPLY=($(compgen -W "$record_opts $common" -- "$cur")) ;;
    history) COMPREPLY=($(compgen -W "$history_opts $common" -- "$cur")) ;;
    zombies) COMPREPLY=($(compgen -W "$zombies_opts $common" -- "$cur")) ;;
    snapshot) COMPREPLY=($(compgen -W "$snapshot_opts $common" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$why_opts $common" -- "$cur")) ;;
  esac
}
complete -F _lineage lineage
