# fish completion for lineage
set -l cols pid ppid pgid sid user uid stat s etime etimes time %cpu %mem rss vsz tty nlwp ni lstart comm cmd exe cwd cgroup pidns mntns netns
complete -c lineage -f
complete -c lineage -n __fish_use_subcommand -a why -d 'why is this process running'
complete -c lineage -n __fish_use_subcommand -a tree -d 'process forest'
complete -c lineage -l json -d 'JSON output'
complete -c lineage -l no-color -d 'no colors'
complete -c lineage -n '__fish_seen_subcommand_from tree' -s o -l columns -x -a "$cols" -d columns
complete -c lineage -n '__fish_seen_subcommand_from tree' -l sort -x -a "$cols" -d 'sort siblings'
complete -c lineage -n '__fish_seen_subcommand_from tree' -s u -l user -x -a '(__fish_complete_users)' -d 'only this user'
complete -c lineage -n '__fish_seen_subcommand_from tree' -l threads -d 'show threads'
complete -c lineage -n '__fish_seen_subcommand_from tree' -l kernel -d 'show kernel threads'
complete -c lineage -n '__fish_seen_subcommand_from tree' -l compact -d 'fold identical leaves'
complete -c lineage -n '__fish_seen_subcommand_from tree' -l ascii -d 'ASCII line art'
complete -c lineage -n '__fish_seen_subcommand_from why' -l port -x -d 'local port'
complete -c lineage -n '__fish_seen_subcommand_from why' -l file -r -F -d 'file'
complete -c lineage -n '__fish_seen_subcommand_from why' -l container -x -d 'container name or id'
complete -c lineage -n '__fish_seen_subcommand_from why' -l all -d 'every match'
complete -c lineage -n '__fish_seen_subcommand_from why' -l short -d 'one line'
complete -c lineage -n '__fish_seen_subcommand_from why' -l tree -d 'children too'
complete -c lineage -n '__fish_seen_subcommand_from why' -l env -d 'environment, redacted'
complete -c lineage -l exact -d 'exact name'
complete -c lineage -l pid -x -d 'target pid'
complete -c lineage -l name -x -d 'target name'
