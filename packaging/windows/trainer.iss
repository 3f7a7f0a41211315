; Inno Setup 6 script: Windows installer for the one-folder app built by PyInstaller.
;
; Cannot be built on the Linux development machine; .github/workflows/build-installers.yml builds it on a
; Windows runner. By hand, on Windows, from the checkout:
;   pyinstaller --noconfirm --distpath build\windows\dist --workpath build\windows\work packaging\trainer.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 /DDistDir=..\..\build\windows\dist\trainer packaging\windows\trainer.iss
;
; Unattended roll-out by a training programme (all users, with the programme's site policy, docs/policy.md):
;   VideoVisitTrainer-0.1.0-setup.exe /VERYSILENT /ALLUSERS /POLICY="\\server\share\policy.yaml"
; The policy is copied to %PROGRAMDATA%\VideoVisitTrainer\policy.yaml, where the app looks for it.
; To check an installed copy: "%ProgramFiles%\Video-Visit Trainer\trainer.exe" --self-test

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef DistDir
  #define DistDir "..\..\build\windows\dist\trainer"
#endif
#define AppName "Video-Visit Trainer"
#define GuiExe "VideoVisitTrainer.exe"

[Setup]
; Keep AppId unchanged across versions: upgrades replace the previous installation.
AppId={{6F0B7B52-3C1E-4C7D-9A55-2B8E8A1F4C21}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Video-Visit Trainer project
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install without admin rights by default; /ALLUSERS (or the dialog) installs for everyone.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0.17763
OutputDir=..\..\build\windows
OutputBaseFilename=VideoVisitTrainer-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName}

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; Optional site policy given on the command line (/POLICY=...), for managed roll-outs.
Source: "{param:POLICY}"; DestDir: "{commonappdata}\VideoVisitTrainer"; DestName: "policy.yaml"; \
  Flags: external skipifsourcedoesntexist uninsneveruninstall; Check: PolicyGiven

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Sessions in the user's data folder are the user's: never removed by the uninstaller.
Type: filesandordirs; Name: "{app}\__pycache__"

[Code]
function PolicyGiven(): Boolean;
begin
  Result := ExpandConstant('{param:POLICY}') <> '';
end;
