#pragma once
// The one-sentence answer: "sshd session of root from 127.0.0.1 started
// bash, which started sleep".
#include <string>
#include <vector>

#include "core/process.h"
#include "explain/source.h"

namespace lineage::explain {

/// How a source reads in a sentence: "ssh session of root from 127.0.0.1".
std::string describe(const Source& source);

/// The launcher a source names: "sshd", "cron", "atd", "tmux", "supervisord" ...
std::string launcher_name(const Source& s);

/// An unverified source as a claim: "pid 4200 claims to be sshd (ssh session
/// of lbuser from 10.0.0.9) (unverified: runs /home/lbuser/sshd, owned by lbuser)".
std::string claim_text(const Source& s);

/// The summary for a chain (root first) and its sources (most specific
/// first). Sources marked via=session were found on `session_chain`, the
/// chain of an orphan's session leader, and tell where the orphan came from.
std::string summarize(const std::vector<core::Process>& chain, const std::vector<Source>& sources,
                      const std::vector<core::Process>& session_chain = {});

}  // namespace lineage::explain
