// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ProofRegistry
/// @notice Conductor Relay's on-chain commitments (docs/protocol.md, "Commitments"). A batch commits to a
/// Merkle root over session leaves, each of which commits to a Merkle root over the session's
/// receipts. After `challengeDelay` blocks, a block hash picks one session and one receipt in it;
/// whoever proves that receipt's inclusion through both levels verifies the batch, up to and
/// including block `challengeBlock + proofWindow`. A batch not proven by then can no longer be
/// proven, only expired (by anyone).
/// Leaves are OpenZeppelin standard leaves (double keccak of the ABI encoding); pairs are hashed
/// sorted. The encodings are documented in protocol/commitments.ts.
contract ProofRegistry {
    enum State {
        None,
        Committed,
        Verified,
        Expired
    }

    struct Batch {
        bytes32 root;
        bytes32 reportCardRoot;
        uint64 relayCount;
        uint64 computeUnits;
        uint32 sessionCount;
        uint64 committedBlock;
        State state;
        address submitter;
    }

    struct SessionLeaf {
        bytes32 sessionSeed;
        uint32 ordinal;
        bytes32 sessionRoot;
        uint64 relayCount;
        uint64 computeUnits;
    }

    struct ReceiptLeaf {
        bytes32 sessionSeed;
        uint64 relayIndex;
        bytes32 hostKey;
        bytes32 requestDigest;
        bytes32 responseDigest;
        uint16 status;
        uint8 outcome;
        uint32 latencyMs;
        uint32 computeUnits;
        uint64 createdAt;
        /// @dev 1: the ten words above; 2: a token-metered relay's receipt, which adds its tokens.
        uint8 leafVersion;
        uint32 promptTokens;
        uint32 completionTokens;
    }

    address public owner;
    uint64 public immutable challengeDelay;
    uint64 public immutable proofWindow;
    mapping(address => bool) public submitters;
    mapping(bytes32 => Batch) public batches;
    /// @notice keccak256 of the licence genesis snapshot (protocol/licences.ts), committed once at mainnet.
    bytes32 public genesisHash;

    event SubmitterSet(address indexed submitter, bool allowed);
    event BatchCommitted(
        bytes32 indexed batchId,
        bytes32 root,
        uint64 relayCount,
        uint64 computeUnits,
        bytes32 reportCardRoot,
        uint32 sessionCount,
        address indexed submitter
    );
    event BatchVerified(bytes32 indexed batchId, address indexed prover, uint32 sessionOrdinal, uint64 relayIndex);
    event BatchExpired(bytes32 indexed batchId);
    event GenesisCommitted(bytes32 indexed snapshotHash, address submitter);

    error NotOwner();
    error NotSubmitter();
    error EmptyBatch();
    error BadBatchId();
    error BatchExists();
    error NotCommitted();
    error UnknownLeafVersion();
    error ChallengeNotReady();
    error ChallengeUnavailable();
    error WrongSession();
    error WrongReceipt();
    error InvalidSessionProof();
    error InvalidReceiptProof();
    error ProofWindowOpen();
    error ProofWindowClosed();
    error GenesisExists();
    error EmptyGenesis();

    constructor(uint64 challengeDelay_, uint64 proofWindow_) {
        require(proofWindow_ > 0 && challengeDelay_ + proofWindow_ < 256, "window beyond blockhash reach");
        owner = msg.sender;
        challengeDelay = challengeDelay_;
        proofWindow = proofWindow_;
        submitters[msg.sender] = true;
        emit SubmitterSet(msg.sender, true);
    }

    function setSubmitter(address submitter, bool allowed) external {
        if (msg.sender != owner) revert NotOwner();
        submitters[submitter] = allowed;
        emit SubmitterSet(submitter, allowed);
    }

    /// @notice Commits the hash of the licence genesis snapshot written when the network moved to
    /// mainnet. Once only: the snapshot is frozen from then on.
    function commitGenesis(bytes32 snapshotHash) external {
        if (!submitters[msg.sender]) revert NotSubmitter();
        if (snapshotHash == bytes32(0)) revert EmptyGenesis();
        if (genesisHash != bytes32(0)) revert GenesisExists();
        genesisHash = snapshotHash;
        emit GenesisCommitted(snapshotHash, msg.sender);
    }

    /// @notice A batch id is derived from its content, so the same batch can never be committed twice.
    function batchIdOf(bytes32 root, uint64 relayCount, uint64 computeUnits, bytes32 reportCardRoot, uint32 sessionCount)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(root, relayCount, computeUnits, reportCardRoot, sessionCount));
    }

    function commitBatch(
        bytes32 batchId,
        bytes32 root,
        uint64 relayCount,
        uint64 computeUnits,
        bytes32 reportCardRoot,
        uint32 sessionCount
    ) external {
        if (!submitters[msg.sender]) revert NotSubmitter();
        if (sessionCount == 0 || relayCount == 0) revert EmptyBatch();
        if (batchId != batchIdOf(root, relayCount, computeUnits, reportCardRoot, sessionCount)) revert BadBatchId();
        if (batches[batchId].state != State.None) revert BatchExists();
        batches[batchId] = Batch({
            root: root,
            reportCardRoot: reportCardRoot,
            relayCount: relayCount,
            computeUnits: computeUnits,
            sessionCount: sessionCount,
            committedBlock: uint64(block.number),
            state: State.Committed,
            submitter: msg.sender
        });
        emit BatchCommitted(batchId, root, relayCount, computeUnits, reportCardRoot, sessionCount, msg.sender);
    }

    function challengeBlock(bytes32 batchId) public view returns (uint256) {
        return uint256(batches[batchId].committedBlock) + challengeDelay;
    }

    /// @notice The challenge of a committed batch: its seed and the ordinal of the session to prove.
    function challenge(bytes32 batchId) public view returns (bytes32 seed, uint32 sessionOrdinal) {
        Batch storage b = batches[batchId];
        if (b.state == State.None) revert NotCommitted();
        uint256 at = challengeBlock(batchId);
        if (block.number <= at) revert ChallengeNotReady();
        bytes32 h = blockhash(at);
        if (h == bytes32(0)) revert ChallengeUnavailable();
        seed = keccak256(abi.encode(h, batchId));
        sessionOrdinal = uint32(uint256(seed) % b.sessionCount);
    }

    function challengedRelay(bytes32 seed, bytes32 sessionSeed, uint64 relayCount) public pure returns (uint64) {
        return uint64(uint256(keccak256(abi.encode(seed, sessionSeed))) % relayCount);
    }

    /// @notice Proves the challenged receipt through both levels and marks the batch verified.
    /// Only within the proof window: a late proof must not revive a batch that is due to expire.
    function proveBatch(
        bytes32 batchId,
        SessionLeaf calldata session,
        bytes32[] calldata sessionProof,
        ReceiptLeaf calldata receipt,
        bytes32[] calldata receiptProof
    ) external {
        Batch storage b = batches[batchId];
        if (b.state != State.Committed) revert NotCommitted();
        if (block.number > challengeBlock(batchId) + proofWindow) revert ProofWindowClosed();
        (bytes32 seed, uint32 ordinal) = challenge(batchId);
        if (session.ordinal != ordinal || session.relayCount == 0) revert WrongSession();
        if (!_verify(sessionProof, b.root, sessionLeafHash(session))) revert InvalidSessionProof();
        if (
            receipt.sessionSeed != session.sessionSeed
                || receipt.relayIndex != challengedRelay(seed, session.sessionSeed, session.relayCount)
        ) revert WrongReceipt();
        if (!_verify(receiptProof, session.sessionRoot, receiptLeafHash(receipt))) revert InvalidReceiptProof();
        b.state = State.Verified;
        emit BatchVerified(batchId, msg.sender, ordinal, receipt.relayIndex);
    }

    /// @notice Marks a batch that was not proven within the window as expired; it earns nothing.
    function expireBatch(bytes32 batchId) external {
        Batch storage b = batches[batchId];
        if (b.state != State.Committed) revert NotCommitted();
        if (block.number <= challengeBlock(batchId) + proofWindow) revert ProofWindowOpen();
        b.state = State.Expired;
        emit BatchExpired(batchId);
    }

    /// @notice Whether a receipt is included in a committed batch (any state but None).
    function verifyReceipt(
        bytes32 batchId,
        SessionLeaf calldata session,
        bytes32[] calldata sessionProof,
        ReceiptLeaf calldata receipt,
        bytes32[] calldata receiptProof
    ) external view returns (bool) {
        Batch storage b = batches[batchId];
        return b.state != State.None && receipt.sessionSeed == session.sessionSeed
            && _verify(sessionProof, b.root, sessionLeafHash(session))
            && _verify(receiptProof, session.sessionRoot, receiptLeafHash(receipt));
    }

    function sessionLeafHash(SessionLeaf calldata s) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(keccak256(abi.encode(s.sessionSeed, s.ordinal, s.sessionRoot, s.relayCount, s.computeUnits)))
        );
    }

    /// @notice A receipt's leaf: format 1 (ten words) for receipts without tokens, format 2 (twelve,
    /// adding promptTokens and completionTokens) for token-metered relays (docs/protocol.md, "Commitments").
    function receiptLeafHash(ReceiptLeaf calldata r) public pure returns (bytes32) {
        bytes memory head = abi.encode(
            r.sessionSeed,
            r.relayIndex,
            r.hostKey,
            r.requestDigest,
            r.responseDigest,
            r.status,
            r.outcome,
            r.latencyMs,
            r.computeUnits,
            r.createdAt
        );
        if (r.leafVersion == 2) head = bytes.concat(head, abi.encode(r.promptTokens, r.completionTokens));
        else if (r.leafVersion != 1) revert UnknownLeafVersion();
        return keccak256(bytes.concat(keccak256(head)));
    }

    /// @dev OpenZeppelin MerkleProof.verify: sorted-pair keccak up the proof.
    function _verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) private pure returns (bool) {
        bytes32 node = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 p = proof[i];
            node = node < p ? keccak256(abi.encode(node, p)) : keccak256(abi.encode(p, node));
        }
        return node == root;
    }

    // ---- Ledger root (issue 16): the internal ledger's holder balances, one Merkle root per epoch.

    /// @notice Merkle root of every holder's posted balance per asset at an epoch (protocol/ledger-root.ts).
    mapping(uint64 => bytes32) public ledgerRoots;

    event LedgerRootCommitted(uint64 indexed epoch, bytes32 root, address submitter);

    error LedgerRootExists();
    error EmptyLedgerRoot();

    /// @notice Commits the ledger root of `epoch`, once: an epoch's balances never change afterwards.
    function commitLedgerRoot(uint64 epoch, bytes32 root) external {
        if (!submitters[msg.sender]) revert NotSubmitter();
        if (root == bytes32(0)) revert EmptyLedgerRoot();
        if (ledgerRoots[epoch] != bytes32(0)) revert LedgerRootExists();
        ledgerRoots[epoch] = root;
        emit LedgerRootCommitted(epoch, root, msg.sender);
    }

    /// @notice The leaf of a holder's balance (format version 1): holderKey and asset are keccak256
    /// of the holder id and asset symbol (UTF-8); an OpenZeppelin standard leaf like the batch leaves.
    function ledgerLeafHash(bytes32 holderKey, bytes32 asset, uint256 balance, uint64 epoch) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(holderKey, asset, balance, epoch))));
    }

    /// @notice Whether `holderKey` held `balance` of `asset` at `epoch`, by the committed ledger root.
    function verifyLedgerBalance(
        uint64 epoch,
        bytes32 holderKey,
        bytes32 asset,
        uint256 balance,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = ledgerRoots[epoch];
        return root != bytes32(0) && _verify(proof, root, ledgerLeafHash(holderKey, asset, balance, epoch));
    }

    // --- Contribution records (docs/rep.md, issue 17) -------------------------------------------

    /// @notice Roots of the contribution-record tree (protocol/citations.ts): one leaf per proposal,
    /// in creation order, with its service-record mark. Maps a committed root to the number of
    /// records it covers (0: never committed).
    mapping(bytes32 => uint64) public contributionRoots;
    /// @notice The last contribution root committed.
    bytes32 public latestContributionRoot;

    event ContributionRootCommitted(bytes32 indexed root, uint64 count, address submitter);

    error EmptyContributionRoot();
    error ContributionRootExists();

    /// @notice Commits a root of the contribution records (the gateway does so with the batches,
    /// whenever records were added or adopted). A root is committed once.
    function commitContributionRoot(bytes32 root, uint64 count) external {
        if (!submitters[msg.sender]) revert NotSubmitter();
        if (root == bytes32(0) || count == 0) revert EmptyContributionRoot();
        if (contributionRoots[root] != 0) revert ContributionRootExists();
        contributionRoots[root] = count;
        latestContributionRoot = root;
        emit ContributionRootCommitted(root, count, msg.sender);
    }

    /// @notice True when `leaf` (a contribution record's leaf hash) is in the committed `root`.
    function verifyContribution(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return contributionRoots[root] != 0 && _verify(proof, root, leaf);
    }
}
